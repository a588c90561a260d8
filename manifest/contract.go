package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/glacier-pipeline/glacier/schema"
)

// Keys of a dataset's schema: mapping and of each of its columns.
var (
	schemaKeys = []string{"format", "columns", "json_schema"}
	columnKeys = []string{"name", "type", "nullable", "pattern", "enum"}
)

// fileSchema names a schema file's top level in its problems.
const fileSchema = "the schema"

// datasetSchema reads a dataset's schema: value: a mapping written inline,
// or the path of a file holding one (JSON or YAML), relative to the
// manifest. It returns the schema and the file's path, if any.
func (p *parser) datasetSchema(what string, n *yaml.Node) (*schema.Schema, string) {
	if n.Kind != yaml.ScalarNode {
		return p.contract(what+" schema", n), ""
	}
	path := p.str(n, what+" schema")
	if path == "" {
		return nil, ""
	}
	full := filepath.FromSlash(path)
	if !filepath.IsAbs(full) {
		full = filepath.Join(filepath.Dir(p.file), full)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			p.errorf(n, "%s schema file %s does not exist (looked for %s); point schema: at a file, or write the schema inline", what, path, full)
		} else {
			p.errorf(n, "%s schema file %s: %v", what, path, err)
		}
		return nil, path
	}
	// The file is parsed on its own; its problems are reported at the
	// manifest's schema: line, with their own line in the file.
	sub := &parser{file: path, lines: map[string]int{}}
	var doc yaml.Node
	var s *schema.Schema
	if err := yaml.Unmarshal(data, &doc); err != nil {
		is := syntaxIssue(data, err)
		sub.issues = append(sub.issues, is)
	} else if doc.Kind == 0 || len(doc.Content) == 0 {
		sub.issues = append(sub.issues, Issue{Msg: "the schema file is empty; it needs at least format:"})
	} else {
		sub.duplicates(doc.Content[0])
		s = sub.contract(fileSchema, doc.Content[0])
	}
	for _, is := range sub.issues {
		p.issues = append(p.issues, Issue{Line: n.Line, Msg: fmt.Sprintf("%s schema: %s%s", what, position(path, is.Line), is.Msg)})
	}
	return s, path
}

// contract reads a schema mapping and checks it with schema.Compile,
// reporting a problem at the line of the key it concerns.
func (p *parser) contract(what string, n *yaml.Node) *schema.Schema {
	before := len(p.issues)
	f, _ := p.mapping(n, what, schemaKeys, false)
	s := &schema.Schema{}
	if e, ok := f["format"]; ok {
		s.Format = schema.Format(p.str(e.val, what+" format"))
	}
	if e, ok := f["columns"]; ok {
		if e.val.Kind != yaml.SequenceNode {
			p.errorf(e.val, "%s columns must be a list of columns, like [{name: id, type: integer}]", what)
		} else {
			for i, cn := range e.val.Content {
				s.Columns = append(s.Columns, p.column(fmt.Sprintf("%s column %d", what, i+1), cn))
			}
		}
	}
	if e, ok := f["json_schema"]; ok {
		var v any
		if err := e.val.Decode(&v); err != nil {
			p.errorf(e.val, "%s json_schema: %v", what, err)
		} else if b, err := json.Marshal(v); err != nil {
			p.errorf(e.val, "%s json_schema cannot be written as JSON (%v); give it in JSON form", what, err)
		} else {
			s.JSONSchema = b
		}
	}
	if len(p.issues) > before {
		return nil
	}
	if _, err := schema.Compile(s); err != nil {
		var se *schema.Error
		if errors.As(err, &se) && what == fileSchema {
			p.errorf(nodeAt(n, se.Path), "%s", se.Msg)
		} else if se != nil {
			p.errorf(nodeAt(n, se.Path), "%s: %s", what, se.Msg)
		} else {
			p.errorf(n, "%s: %v", what, err)
		}
		return nil
	}
	return s
}

func (p *parser) column(what string, n *yaml.Node) schema.Column {
	f, _ := p.mapping(n, what, columnKeys, false)
	c := schema.Column{Name: p.optStr(f, "name", what), Type: schema.Type(p.optStr(f, "type", what)),
		Nullable: p.optBool(f, "nullable", what), Pattern: p.optStr(f, "pattern", what)}
	if e, ok := f["enum"]; ok {
		if e.val.Kind != yaml.SequenceNode {
			p.errorf(e.val, "%s enum must be a list of values, like [EUR, USD]", what)
		} else {
			c.Enum = []string{}
			for _, v := range e.val.Content {
				c.Enum = append(c.Enum, p.str(v, what+" enum value"))
			}
		}
	}
	return c
}

// nodeAt follows a JSON Pointer from n as far as the YAML goes, and
// returns the node there: the line a schema.Error concerns.
func nodeAt(n *yaml.Node, pointer string) *yaml.Node {
	for _, seg := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if seg == "" {
			continue
		}
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					n, found = n.Content[i+1], true
					break
				}
			}
			if !found {
				return n
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n.Content) {
				return n
			}
			n = n.Content[i]
		default:
			return n
		}
	}
	return n
}

// schemaNode writes a dataset's schema: the file's path, or the schema
// inline, in JSON's flow style.
func schemaNode(s *schema.Schema, file string) (*yaml.Node, error) {
	if file != "" {
		return str(file), nil
	}
	b, err := s.Encode()
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return doc.Content[0], nil
}
