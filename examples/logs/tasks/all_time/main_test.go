package main

import (
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

func TestAllTime(t *testing.T) {
	days := map[string][]byte{
		"2026-12-02.log": []byte(`{"day":"2026-12-02","requests":5,"errors":1,"bytes":212,"top_paths":[]}`),
		"2026-12-01.log": []byte(`{"day":"2026-12-01","requests":3,"errors":0,"bytes":10,"top_paths":[]}`),
	}
	res, err := tasktest.Run(run, tasktest.Config{Task: "all_time",
		PartitionedInputs: map[string]map[string][]byte{"daily": days}, Outputs: []string{"all_time"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "day,requests,errors,bytes\n2026-12-01,3,0,10\n2026-12-02,5,1,212\ntotal,8,1,222\n"
	if got := string(res.Outputs["all_time"]); got != want {
		t.Errorf("all_time:\n%s\nwant:\n%s", got, want)
	}
}

func TestAllTimeNamesABadDay(t *testing.T) {
	_, err := tasktest.Run(run, tasktest.Config{Task: "all_time",
		PartitionedInputs: map[string]map[string][]byte{"daily": {"2026-12-09.log": []byte("{")}}, Outputs: []string{"all_time"}})
	if err == nil || !strings.Contains(err.Error(), "day 2026-12-09.log:") {
		t.Fatalf("err = %v", err)
	}
}
