// Command badptr passes a bad pointer, length or handle, chosen by the param
// "case", straight to one host function, prints the errno it got back
// ("errno=N"), and exits 0. It first writes its output "out" correctly, so
// the bad call is the only thing wrong with it.
package main

import (
	"fmt"
	"os"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/testdata/wasm/internal/raw"
)

const (
	wild   = 0xFFFFFFF0 // far past the end of memory
	huge   = 0x7FFFFFFF // longer than memory
	noSuch = 12345      // never a handle
)

func main() {
	tc, err := raw.Context()
	raw.Check(err)
	out, err := raw.Open("out", abi.ModeWrite)
	raw.Check(err)
	raw.Check(raw.Write(out, []byte("ok")))
	raw.Check(raw.Close(out))

	buf := make([]byte, 4096)
	np := raw.Ptr(buf[4092:]) // a valid u32 slot
	name := []byte("in")
	openIn := func() uint32 { h, err := raw.Open("in", abi.ModeRead); raw.Check(err); return h }

	var e abi.Errno
	switch c := tc.Params["case"]; c {
	case "context_len_ptr":
		e = raw.TaskContextRaw(raw.Ptr(buf), 1024, wild)
	case "context_buf":
		e = raw.TaskContextRaw(wild, 1024, np)
	case "open_name":
		e = raw.OpenRaw(wild, 2, abi.ModeRead, np)
	case "open_handle_ptr":
		e = raw.OpenRaw(raw.Ptr(name), uint32(len(name)), abi.ModeRead, wild)
	case "read_handle":
		e = raw.ReadRaw(noSuch, raw.Ptr(buf), 16, np)
	case "read_buf":
		e = raw.ReadRaw(openIn(), raw.Ptr(buf), huge, np)
	case "read_n_ptr":
		e = raw.ReadRaw(openIn(), raw.Ptr(buf), 16, wild)
	case "write_handle":
		e = raw.WriteRaw(noSuch, raw.Ptr(buf), 16, np)
	case "write_buf":
		e = raw.WriteRaw(openIn(), wild, 16, np) // also the wrong direction
	case "write_on_input":
		e = raw.WriteRaw(openIn(), raw.Ptr(buf), 16, np)
	case "read_on_output":
		e = raw.ReadRaw(out, raw.Ptr(buf), 16, np) // closed already, so not open
	case "close_handle":
		e = raw.CloseRaw(noSuch)
	case "close_twice":
		h := openIn()
		raw.Check(raw.Close(h))
		e = raw.CloseRaw(h)
	case "fail_msg":
		e = raw.FailRaw(wild, 64)
	default:
		raw.Fail(fmt.Sprintf("unknown case %q", c))
	}
	fmt.Printf("errno=%d\n", e)
	os.Exit(0)
}
