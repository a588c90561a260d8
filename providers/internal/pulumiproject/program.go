package pulumiproject

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"maps"
	"strings"
	"text/template"
	"unicode"
)

// Templates are a compiler's text templates for the files of its
// projects.
type Templates struct {
	t *template.Template
}

// ParseTemplates parses the files of fsys that match pattern. Besides
// funcs, the templates may call q, which quotes a string (of any string
// type) as Go does, and
// comment (see Comment). It panics if a template does not parse: templates
// are embedded in the compiler, so that is a bug caught by any test.
func ParseTemplates(fsys fs.FS, pattern string, funcs template.FuncMap) *Templates {
	all := template.FuncMap{"q": quote, "comment": Comment}
	maps.Copy(all, funcs)
	return &Templates{t: template.Must(template.New("").Funcs(all).ParseFS(fsys, pattern))}
}

// quote quotes a value of a string type as Go does.
func quote(s any) string { return fmt.Sprintf("%q", s) }

// Render executes the template called name with data.
func (ts *Templates) Render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := ts.t.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Go executes the template called name with data and gofmts the result,
// which must be Go source.
func (ts *Templates) Go(name string, data any) ([]byte, error) {
	src, err := ts.Render(name, data)
	if err != nil {
		return nil, err
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("%s renders Go that does not parse: %w\n%s", name, err, src)
	}
	return out, nil
}

// Comment formats text as a // comment indented by one tab, wrapped at 80
// columns.
func Comment(text string) string {
	const width = 80 - 8 - 3 // a tab counts 8, then "// "
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	lines = append(lines, line)
	return "// " + strings.Join(lines, "\n\t// ")
}

// Idents hands out distinct Go identifiers for the variables of a written
// program.
type Idents map[string]bool

// goNames are Go's keywords and predeclared identifiers, which no
// variable of a written program may take.
var goNames = []string{
	"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for", "func", "go",
	"goto", "if", "import", "interface", "map", "package", "range", "return", "select", "struct", "switch", "type",
	"var", "any", "append", "bool", "byte", "cap", "clear", "close", "complex", "copy", "delete", "error", "false",
	"float32", "float64", "imag", "int", "int8", "int16", "int32", "int64", "iota", "len", "make", "max", "min",
	"new", "nil", "panic", "print", "println", "real", "recover", "rune", "string", "true", "uint", "uint8",
	"uint16", "uint32", "uint64", "uintptr",
}

// NewIdents returns Idents that never hand out a Go keyword, a predeclared
// identifier or one of reserved: the names the program uses for its
// imports, functions and types.
func NewIdents(reserved ...string) Idents {
	ids := Idents{}
	for _, r := range goNames {
		ids[r] = true
	}
	for _, r := range reserved {
		ids[r] = true
	}
	return ids
}

// Add returns a fresh identifier: want if it is free, else want+suffix,
// else that with a number.
func (ids Idents) Add(want, suffix string) string {
	id := want
	if ids[id] {
		id = want + suffix
	}
	for i := 2; ids[id]; i++ {
		id = fmt.Sprintf("%s%s%d", want, suffix, i)
	}
	ids[id] = true
	return id
}

// Camel turns a glacier name (lowercase, '_' and '-') into
// lowerCamelCase: "orders_raw" becomes "ordersRaw".
func Camel(name string) string {
	var b strings.Builder
	upper := false
	for _, r := range name {
		switch {
		case r == '_' || r == '-':
			upper = b.Len() > 0
		case upper:
			b.WriteRune(unicode.ToUpper(r))
			upper = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// JoinVars returns the variables that hold datasets, by dataset name,
// joined for a Go list: "orders, customers".
func JoinVars(vars map[string]string, datasets []string) string {
	v := make([]string, len(datasets))
	for i, d := range datasets {
		v[i] = vars[d]
	}
	return strings.Join(v, ", ")
}
