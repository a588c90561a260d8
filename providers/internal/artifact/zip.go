// Package artifact makes the files Glacier deploys to clouds reproducible:
// zips whose bytes depend only on their contents, and Go programs of this
// module cross-built with flags that leave no trace of the machine, the path
// or the time they were built at. It is cloud-neutral: the AWS Lambda and
// Google Cloud Functions packagers both use it.
package artifact

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Entry modes WriteZip accepts.
const (
	// ModeFile is the mode of data files.
	ModeFile fs.FileMode = 0o644
	// ModeExec is the mode of executables.
	ModeExec fs.FileMode = 0o755
)

// File is one file of a zip.
type File struct {
	// Name is the file's slash-separated path inside the archive, such as
	// "bootstrap" or "cache/ab/cd".
	Name string
	// Mode is ModeFile or ModeExec.
	Mode fs.FileMode
	// Data is the file's contents.
	Data []byte
}

// Every entry's time is 1980-01-01 00:00:00, the earliest a zip's MS-DOS
// timestamps can hold.
const (
	dosEpochDate = 1<<5 | 1 // day 1 of month 1 of year 0 (1980)
	dosEpochTime = 0
)

// zipVersion20 is the zip format version the entries need: 2.0, deflate.
const zipVersion20 = 20

// WriteZip writes files to w as a zip archive whose bytes depend only on
// the files: entries sorted by name, every timestamp 1980-01-01 00:00,
// Unix modes, no extra fields or data descriptors, and deflate at a fixed
// level (the same bytes
// for the same Go release; compress/flate may change between releases).
// Directories are implied by the names, not stored.
//
// It fails, writing nothing, if a name is empty, absolute, not clean
// (holds "." or ".." elements, a trailing slash or a backslash) or appears
// twice, or if a mode is neither ModeFile nor ModeExec.
func WriteZip(w io.Writer, files []File) error {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	for i, f := range sorted {
		if err := checkName(f.Name); err != nil {
			return err
		}
		if f.Mode != ModeFile && f.Mode != ModeExec {
			return fmt.Errorf("artifact: zip entry %q has mode %v; use ModeFile (0644) or ModeExec (0755)", f.Name, f.Mode)
		}
		if i > 0 && sorted[i-1].Name == f.Name {
			return fmt.Errorf("artifact: zip entry %q appears twice", f.Name)
		}
	}
	// Entries are compressed in parallel, then written in order.
	type deflated struct {
		data []byte
		crc  uint32
	}
	out := make([]deflated, len(sorted))
	errs := make([]error, len(sorted))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, f := range sorted {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var buf bytes.Buffer
			fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
			if err == nil {
				_, err = fw.Write(f.Data)
			}
			if err == nil {
				err = fw.Close()
			}
			out[i], errs[i] = deflated{buf.Bytes(), crc32.ChecksumIEEE(f.Data)}, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("artifact: compress: %w", err)
	}

	zw := zip.NewWriter(w)
	for i, f := range sorted {
		h := &zip.FileHeader{
			Name:               f.Name,
			Method:             zip.Deflate,
			CRC32:              out[i].crc,
			CompressedSize64:   uint64(len(out[i].data)),
			UncompressedSize64: uint64(len(f.Data)),
			ReaderVersion:      zipVersion20,
		}
		h.SetMode(f.Mode) // sets the Unix creator
		h.CreatorVersion |= zipVersion20
		// CreateRaw writes only the MS-DOS time fields, not Modified.
		//lint:ignore SA1019 the MS-DOS fields are what CreateRaw writes
		h.ModifiedDate, h.ModifiedTime = dosEpochDate, dosEpochTime
		fw, err := zw.CreateRaw(h)
		if err != nil {
			return fmt.Errorf("artifact: zip entry %q: %w", f.Name, err)
		}
		if _, err := fw.Write(out[i].data); err != nil {
			return fmt.Errorf("artifact: zip entry %q: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("artifact: finish zip: %w", err)
	}
	return nil
}

// Zip returns the zip WriteZip writes for files.
func Zip(files []File) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteZip(&buf, files); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("artifact: zip entry with an empty name")
	case strings.Contains(name, `\`):
		return fmt.Errorf("artifact: zip entry %q holds a backslash; use slash-separated names", name)
	case path.IsAbs(name) || path.Clean(name) != name || name == "." || strings.HasPrefix(name, "../") || name == "..":
		return fmt.Errorf("artifact: zip entry %q is not a clean relative path", name)
	}
	return nil
}

// ReadDir returns the regular files under dir as zip entries named
// prefix/<path relative to dir>, with ModeExec for files any execute bit is
// set on and ModeFile for the others. Symbolic links and other special
// files are refused. An empty prefix puts the files at the archive's root.
func ReadDir(dir, prefix string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("artifact: %s is not a regular file (%v); zips hold regular files only", p, d.Type())
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mode := ModeFile
		if info.Mode()&0o111 != 0 {
			mode = ModeExec
		}
		files = append(files, File{Name: path.Join(prefix, filepath.ToSlash(rel)), Mode: mode, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("artifact: read %s: %w", dir, err)
	}
	return files, nil
}
