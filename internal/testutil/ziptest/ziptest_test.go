package ziptest

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode fs.FileMode
		data string
	}{
		{"bootstrap", 0o755, "#!"},
		{"dir/module.wasm", 0o644, "\x00asm"},
	} {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		h.SetMode(f.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zb := buf.Bytes()

	files := Files(t, zb)
	if len(files) != 2 || string(files["bootstrap"]) != "#!" || string(files["dir/module.wasm"]) != "\x00asm" {
		t.Errorf("Files = %q", files)
	}
	modes := Modes(t, zb)
	if modes["bootstrap"] != 0o755 || modes["dir/module.wasm"] != 0o644 {
		t.Errorf("Modes = %v", modes)
	}
	dir := Extract(t, zb)
	fi, err := os.Stat(filepath.Join(dir, "bootstrap"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("extracted bootstrap: %v, %v; want mode 0755", fi, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "dir", "module.wasm")); err != nil || string(b) != "\x00asm" {
		t.Errorf("extracted module: %q, %v", b, err)
	}
}
