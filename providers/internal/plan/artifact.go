package plan

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Packed is what Task.Inspect reads from a task's artifact.
type Packed struct {
	// ModuleSHA256 is the sha256 of the one WebAssembly module inside.
	ModuleSHA256 string
	// Unzipped is the size of everything inside, uncompressed.
	Unzipped int64
	// Files are the files Inspect was asked to read that the artifact
	// has, by name.
	Files map[string][]byte
}

// maxRead bounds each file Inspect reads whole.
const maxRead = 1 << 20

// Inspect reads t's packaged artifact zb, a zip that what names in
// messages ("zip", "bundle"), and checks that the one WebAssembly module
// in it is t's built module, byte for byte: every target runs the very
// module glacier run does. It returns the contents of the files named in
// read (each at most 1 MiB) that the artifact has.
func (t Task) Inspect(what string, zb []byte, read ...string) (Packed, error) {
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		return Packed{}, fmt.Errorf("the %s is not a zip: %w", what, err)
	}
	p := Packed{Files: map[string][]byte{}}
	for _, f := range zr.File {
		p.Unzipped += int64(f.UncompressedSize64)
		switch {
		case slices.Contains(read, f.Name):
			data, err := readZipped(f, maxRead)
			if err != nil {
				return Packed{}, err
			}
			p.Files[f.Name] = data
		case strings.HasSuffix(f.Name, ".wasm"):
			if p.ModuleSHA256 != "" {
				return Packed{}, fmt.Errorf("the %s holds more than one .wasm file", what)
			}
			r, err := f.Open()
			if err != nil {
				return Packed{}, err
			}
			h := sha256.New()
			_, err = io.Copy(h, r)
			r.Close()
			if err != nil {
				return Packed{}, fmt.Errorf("reading %s: %w", f.Name, err)
			}
			p.ModuleSHA256 = hex.EncodeToString(h.Sum(nil))
		}
	}
	switch {
	case p.ModuleSHA256 == "":
		return Packed{}, fmt.Errorf("the %s holds no .wasm module", what)
	case p.ModuleSHA256 != t.Module.SHA256:
		return Packed{}, fmt.Errorf("the %s's module has sha256 %s, not the built module's %s", what, p.ModuleSHA256, t.Module.SHA256)
	}
	return p, nil
}

func readZipped(f *zip.File, limit int64) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name, err)
	}
	if int64(len(data)) > limit {
		return nil, errors.New(f.Name + " is over " + MiB(limit))
	}
	return data, nil
}

// MiB formats a size in bytes for messages: "12.3 MiB".
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
