package main

import (
	"testing"

	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

func TestDaily(t *testing.T) {
	hits := "time,method,path,status,bytes\n" +
		"2026-12-02T10:00:00Z,GET,/a,200,100\n" +
		"2026-12-02T10:00:01Z,GET,/b,500,10\n" +
		"2026-12-02T10:00:02Z,GET,/a,200,100\n" +
		"2026-12-02T10:00:03Z,GET,/c,404,1\n" +
		"2026-12-02T10:00:04Z,GET,/d,200,1\n"
	res, err := tasktest.Run(run, tasktest.Config{Task: "daily", Part: "2026-12-02.log",
		Inputs: map[string][]byte{"hits": []byte(hits)}, Outputs: []string{"daily"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"day":"2026-12-02","requests":5,"errors":1,"bytes":212,"top_paths":[{"path":"/a","hits":2},{"path":"/b","hits":1},{"path":"/c","hits":1}]}` + "\n"
	if got := string(res.Outputs["daily"]); got != want {
		t.Errorf("daily = %s, want %s", got, want)
	}
}

func TestDailyOfAnEmptyDay(t *testing.T) {
	res, err := tasktest.Run(run, tasktest.Config{Task: "daily", Part: "2026-12-03.log",
		Inputs: map[string][]byte{"hits": []byte("time,method,path,status,bytes\n")}, Outputs: []string{"daily"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(res.Outputs["daily"]), `{"day":"2026-12-03","requests":0,"errors":0,"bytes":0,"top_paths":[]}`+"\n"; got != want {
		t.Errorf("daily = %s, want %s", got, want)
	}
}
