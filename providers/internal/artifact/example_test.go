package artifact_test

import (
	"archive/zip"
	"bytes"
	"fmt"

	"github.com/glacier-pipeline/glacier/providers/internal/artifact"
)

func ExampleZip() {
	zb, err := artifact.Zip([]artifact.File{
		{Name: "task.wasm", Mode: artifact.ModeFile, Data: []byte("\x00asm\x01\x00\x00\x00")},
		{Name: "bootstrap", Mode: artifact.ModeExec, Data: []byte("#!/bin/sh\n")},
	})
	if err != nil {
		panic(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		panic(err)
	}
	for _, f := range zr.File {
		fmt.Println(f.Name, f.Mode(), f.Modified.Format("2006-01-02"))
	}
	// Output:
	// bootstrap -rwxr-xr-x 1980-01-01
	// task.wasm -rw-r--r-- 1980-01-01
}
