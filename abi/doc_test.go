package abi

import (
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docPath is the normative description this package must match.
const docPath = "../docs/abi.md"

// declared are the constants of abi.go, read from its source so that a
// constant added there without being documented fails the test.
type declared struct {
	funcs      map[string]string // function name -> signature line from its doc comment
	errnos     map[string]uint64 // Errno constant -> value
	modesLimit map[string]int64  // ModeRead, MaxHandles, ... -> value
	module     string
	version    int64
}

func loadDeclared(t *testing.T) declared {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "abi.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{Importer: importer.Default()}).Check("abi", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := declared{funcs: map[string]string{}, errnos: map[string]uint64{}, modesLimit: map[string]int64{}}
	signature := map[string]string{} // constant name -> signature line
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if vs.Doc == nil {
				continue
			}
			lines := strings.Split(vs.Doc.Text(), "\n")
			for i, l := range lines {
				if strings.HasSuffix(l, " is") && i+1 < len(lines) {
					signature[vs.Names[0].Name] = strings.TrimSpace(lines[i+1])
				}
			}
		}
	}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(name, "Func"):
			fn := constant.StringVal(c.Val())
			sig, ok := signature[name]
			if !ok || !strings.HasPrefix(sig, fn+"(") {
				t.Fatalf("abi.go: %s has no doc comment line \"%s is\" followed by its signature", name, name)
			}
			d.funcs[fn] = sig
		case strings.HasPrefix(name, "Errno"):
			v, _ := constant.Uint64Val(c.Val())
			d.errnos[name] = v
		case strings.HasPrefix(name, "Mode"), strings.HasPrefix(name, "Max"):
			v, _ := constant.Int64Val(c.Val())
			d.modesLimit[name] = v
		case name == "ModuleName":
			d.module = constant.StringVal(c.Val())
		case name == "Version":
			d.version, _ = constant.Int64Val(c.Val())
		}
	}
	if len(d.funcs) == 0 || len(d.errnos) == 0 || len(d.modesLimit) == 0 {
		t.Fatalf("found %d functions, %d errnos and %d modes and limits in abi.go; the parser is out of step with it",
			len(d.funcs), len(d.errnos), len(d.modesLimit))
	}
	return d
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("the ABI must be described in docs/abi.md: %v", err)
	}
	return string(b)
}

var (
	funcHeading = regexp.MustCompile("(?m)^### `([a-z_0-9]+)`\\s*$")
	errnoRow    = regexp.MustCompile("(?m)^\\|\\s*(\\d+)\\s*\\|\\s*`(Errno\\w+)`\\s*\\|\\s*([^|]*?)\\s*\\|")
	valueRow    = regexp.MustCompile("(?m)^\\|\\s*`((?:Mode|Max)\\w+)`\\s*\\|\\s*(\\d+)\\s*\\|")
	watImport   = regexp.MustCompile(`\(import\s+"(glacier_v\d+)"\s+"(\w+)"\s+\(func\s+\$\w+\s*((?:\(param[^)]*\)\s*)*)\(result i32\)\)\)`)
	watParam    = regexp.MustCompile(`\bi32\b`)
	sigParams   = regexp.MustCompile(`^\w+\(([^)]*) u32\) errno$`)
)

// TestDocFunctions checks that docs/abi.md has a section for every host
// function, headed by its name and giving its exact signature, and no
// section for a function abi.go lacks.
func TestDocFunctions(t *testing.T) {
	d, doc := loadDeclared(t), readDoc(t)
	sections := map[string]string{}
	idx := funcHeading.FindAllStringSubmatchIndex(doc, -1)
	for i, m := range idx {
		end := len(doc)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		if next := strings.Index(doc[m[1]:end], "\n## "); next >= 0 {
			end = m[1] + next
		}
		sections[doc[m[2]:m[3]]] = doc[m[1]:end]
	}
	for fn, sig := range d.funcs {
		body, ok := sections[fn]
		if !ok {
			t.Errorf("docs/abi.md has no section \"### `%s`\"", fn)
			continue
		}
		if !strings.Contains(body, "\n    "+sig+"\n") {
			t.Errorf("docs/abi.md section %s does not give the signature from abi.go as an indented line:\n    %s", fn, sig)
		}
	}
	for fn := range sections {
		if _, ok := d.funcs[fn]; !ok {
			t.Errorf("docs/abi.md documents a function %q that abi.go does not define", fn)
		}
	}
}

// TestDocErrnos checks the errno table against abi.go: every name with its
// value and its Error text, and nothing else.
func TestDocErrnos(t *testing.T) {
	d, doc := loadDeclared(t), readDoc(t)
	rows := errnoRow.FindAllStringSubmatch(doc, -1)
	inDoc := map[string]bool{}
	for _, r := range rows {
		v, _ := strconv.ParseUint(r[1], 10, 32)
		name, text := r[2], r[3]
		inDoc[name] = true
		want, ok := d.errnos[name]
		switch {
		case !ok:
			t.Errorf("docs/abi.md lists errno %s = %d, which abi.go does not define", name, v)
		case v != want:
			t.Errorf("docs/abi.md gives %s the value %d; abi.go says %d", name, v, want)
		case text != Errno(want).Error():
			t.Errorf("docs/abi.md gives %s the text %q; Errno.Error says %q", name, text, Errno(want).Error())
		}
	}
	for name, v := range d.errnos {
		if !inDoc[name] {
			t.Errorf("docs/abi.md's errno table has no row for %s (%d)", name, v)
		}
	}
}

// TestDocValues checks the modes and limits, the module name and version.
func TestDocValues(t *testing.T) {
	d, doc := loadDeclared(t), readDoc(t)
	inDoc := map[string]bool{}
	for _, r := range valueRow.FindAllStringSubmatch(doc, -1) {
		v, _ := strconv.ParseInt(r[2], 10, 64)
		inDoc[r[1]] = true
		want, ok := d.modesLimit[r[1]]
		switch {
		case !ok:
			t.Errorf("docs/abi.md lists %s = %d, which abi.go does not define", r[1], v)
		case v != want:
			t.Errorf("docs/abi.md gives %s the value %d; abi.go says %d", r[1], v, want)
		}
	}
	for name, v := range d.modesLimit {
		if !inDoc[name] {
			t.Errorf("docs/abi.md's modes and limits table has no row for %s (%d)", name, v)
		}
	}
	if !strings.Contains(doc, "# Glacier host ABI, version "+strconv.FormatInt(d.version, 10)+"\n") {
		t.Errorf("docs/abi.md's title does not name version %d", d.version)
	}
	if !strings.Contains(doc, "`"+d.module+"`") {
		t.Errorf("docs/abi.md does not name the import module `%s`", d.module)
	}
}

// TestDocExample checks that the WAT example imports every host function,
// from the right module, with as many i32 parameters as its signature has.
func TestDocExample(t *testing.T) {
	d, doc := loadDeclared(t), readDoc(t)
	imported := map[string]bool{}
	for _, m := range watImport.FindAllStringSubmatch(doc, -1) {
		mod, fn, params := m[1], m[2], m[3]
		if mod != d.module {
			t.Errorf("the example imports %s from %s, not %s", fn, mod, d.module)
		}
		sig, ok := d.funcs[fn]
		if !ok {
			t.Errorf("the example imports %s, which abi.go does not define", fn)
			continue
		}
		imported[fn] = true
		sm := sigParams.FindStringSubmatch(sig)
		if sm == nil {
			t.Fatalf("cannot read the parameters of %q", sig)
		}
		want := len(strings.Split(sm[1], ","))
		if got := len(watParam.FindAllString(params, -1)); got != want {
			t.Errorf("the example imports %s with %d parameters; its signature %q has %d", fn, got, sig, want)
		}
	}
	for fn := range d.funcs {
		if !imported[fn] {
			t.Errorf("the example in docs/abi.md does not import %s", fn)
		}
	}
}
