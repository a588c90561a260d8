package main

import (
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

func config(log string) tasktest.Config {
	return tasktest.Config{
		Task: "parse", Part: "2026-12-01.log",
		Inputs:  map[string][]byte{"access_logs": []byte(log), "ignore": []byte("# comment\n/healthz\n")},
		Outputs: []string{"hits"},
	}
}

func TestParse(t *testing.T) {
	log := `203.0.113.5 - - [01/Dec/2026:10:00:01 +0000] "GET /index.html HTTP/1.1" 200 5120
203.0.113.6 - - [01/Dec/2026:10:00:02 +0100] "POST /login HTTP/1.1" 302 -
203.0.113.7 - - [01/Dec/2026:10:00:03 +0000] "GET /healthz HTTP/1.1" 200 2
not a log line
`
	res, err := tasktest.Run(run, config(log))
	if err != nil {
		t.Fatal(err)
	}
	want := "time,method,path,status,bytes\n" +
		"2026-12-01T10:00:01Z,GET,/index.html,200,5120\n" +
		"2026-12-01T09:00:02Z,POST,/login,302,0\n"
	if got := string(res.Outputs["hits"]); got != want {
		t.Errorf("hits:\n%s\nwant:\n%s", got, want)
	}
	for _, s := range []string{"2026-12-01.log line 4: no [time]", "2026-12-01.log: 2 requests, 1 ignored, 1 bad lines"} {
		if !strings.Contains(res.Log, s) {
			t.Errorf("log lacks %q:\n%s", s, res.Log)
		}
	}
}

func TestParseRefusesAFileThatIsNotALog(t *testing.T) {
	_, err := tasktest.Run(run, config("one\ntwo\n203.0.113.5 - - [01/Dec/2026:10:00:01 +0000] \"GET / HTTP/1.1\" 200 1\n"))
	if err == nil || !strings.Contains(err.Error(), "2026-12-01.log: 2 of 3 lines are not log lines") {
		t.Fatalf("err = %v", err)
	}
}
