package task

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
)

// contextCases are task contexts the host sends, and JSON that tests the
// corners of the decoder.
var contextCases = []string{
	`{"abi":1,"task":"clean","run_id":"20240611T101500Z-3f9c","params":{"currency":"EUR"},"inputs":["raw_orders"],"outputs":["clean_orders"]}`,
	`{"abi":1,"task":"t","run_id":"r"}`,
	`{"abi":1,"task":"t","run_id":"r","inputs":["in"],"outputs":["out"],"part":"eu/2026/12.csv"}`,
	`{"abi":1,"task":"t","run_id":"r","inputs":["logs"],"outputs":["daily"],"partitioned":["daily","logs"]}`,
	`{"part":null,"partitioned":null,"Part":"k","PARTITIONED":[]}`,
	`{"abi":1,"task":"t","run_id":"r","params":{},"inputs":[],"outputs":[]}`,
	` { "abi" : 1 , "task" : "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00" , "later" : {"x":[1,-2.5e+3,true,false,null,{"y":"z"}]} } `,
	`{"ABI":2,"Task":"case","RUN_ID":"folded","Params":{"k":"v"}}`,
	`{"params":{"a":"1"},"params":{"b":"2"},"inputs":["x"],"inputs":["y"]}`,
	`{"params":{"a":null},"inputs":[null,"b"],"task":null,"abi":null}`,
	`{"params":null,"inputs":null}`,
	`{"task":"lone \ud83d surrogate \udc00 and \ud83d\u0041"}`,
	"{\"task\":\"bad utf-8 \xff\xfe and raw é\"}",
	`{"abi":-0}`,
	`null`,
	`{}`,
	// Refused by both.
	``,
	`[]`,
	`"s"`,
	`{"abi":1.0}`,
	`{"abi":1e2}`,
	`{"abi":"1"}`,
	`{"abi":99999999999999999999}`,
	`{"task":5}`,
	`{"params":[]}`,
	`{"params":{"a":1}}`,
	`{"inputs":"x"}`,
	`{"inputs":[1]}`,
	`{"part":1}`,
	`{"partitioned":"x"}`,
	`{"partitioned":[{}]}`,
	`{"task":"a\x01b"}`,
	`{"task":"\a"}`,
	`{"task":"\u12"}`,
	`{"abi":01}`,
	`{"abi":-}`,
	`{"x":.5}`,
	`{"x":1.}`,
	`{"x":+1}`,
	`{"x":tru}`,
	`{"x":nul}`,
	`{"abi":1}x`,
	`{"abi":1,}`,
	`{"abi" 1}`,
	`{abi:1}`,
	`{"task":"unterminated`,
	`{"x":[1,2}`,
	`null x`,
}

// TestDecodeTaskContextMatchesEncodingJSON checks the decoder against
// json.Unmarshal: the same result, or an error from both.
func TestDecodeTaskContextMatchesEncodingJSON(t *testing.T) {
	for _, c := range contextCases {
		checkTaskContext(t, []byte(c))
	}
}

func FuzzDecodeTaskContext(f *testing.F) {
	for _, c := range contextCases {
		f.Add([]byte(c))
	}
	f.Fuzz(checkTaskContext)
}

func checkTaskContext(t *testing.T, data []byte) {
	var want, got abi.TaskContext
	wantErr := json.Unmarshal(data, &want)
	gotErr := decodeTaskContext(data, &got)
	if wantErr != nil {
		if gotErr == nil {
			t.Fatalf("encoding/json refuses %q (%v), but decodeTaskContext accepts it", data, wantErr)
		}
		return
	}
	if gotErr != nil {
		t.Fatalf("encoding/json accepts %q, but decodeTaskContext says %v", data, gotErr)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("decoding %q: got %+v, encoding/json %+v", data, got, want)
	}
}

func TestDecodeTaskContextRefusesDeepNesting(t *testing.T) {
	deep := []byte(`{"x":`)
	for range maxDepth + 10 {
		deep = append(deep, '[')
	}
	var tc abi.TaskContext
	if decodeTaskContext(deep, &tc) == nil {
		t.Fatal("decodeTaskContext accepts nesting deeper than maxDepth")
	}
}
