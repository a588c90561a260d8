package pulumiproject

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"slices"
	"strconv"
)

// ProgramTag is the build tag of a compiler's static program files: Go
// files of the written program's package main that the repository keeps
// as they are written, but that need the program's own go.mod (the Pulumi
// SDKs), so the repository's build leaves them out. The written project
// builds them; the compilers' TestProject builds and vets them there.
const ProgramTag = "glacier_program"

// constraint is the first line of every static program file.
const constraint = "//go:build " + ProgramTag + "\n"

// ProgramFiles returns the static program files in fsys's directory dir,
// sorted by name, as the written project holds them: without their
// build constraint. A .go file there that does not start with the
// constraint is an error, since the repository would build it.
func ProgramFiles(fsys fs.FS, dir string) ([]File, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []File
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		rest, ok := bytes.CutPrefix(data, []byte(constraint))
		if !ok {
			return nil, fmt.Errorf("pulumiproject: %s does not start with %q", name, constraint)
		}
		out = append(out, File{Name: path.Base(name), Data: bytes.TrimPrefix(rest, []byte("\n"))})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pulumiproject: no program files in %s", dir)
	}
	return out, nil
}

// Declared returns the names files declare at package level, and the
// names of the packages they import, sorted: the identifiers the rendered
// part of the program must not take for its variables (see NewIdents).
func Declared(files []File) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f.Name, f.Data, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			name := path.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			if name != "_" && name != "." {
				out = append(out, name)
			}
		}
		for _, decl := range af.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					out = append(out, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						out = append(out, s.Name.Name)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							out = append(out, n.Name)
						}
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
