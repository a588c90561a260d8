package manifest

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/glacier-pipeline/glacier"
	"go.yaml.in/yaml/v3"
)

// Marshal writes a pipeline as glacier.yaml, in the pipeline's declaration
// order. Parse(Marshal(p)) gives back an equal pipeline.
func Marshal(p *glacier.Pipeline) ([]byte, error) {
	root := mapNode()
	add(root, "name", str(p.Name()))
	if ds := p.Datasets(); len(ds) > 0 {
		datasets := mapNode()
		for _, d := range ds {
			n := mapNode()
			if d.Storage != nil {
				s, err := storageNode(d.Storage)
				if err != nil {
					return nil, fmt.Errorf("dataset %q: %w", d.Name, err)
				}
				add(n, "storage", s)
			}
			if d.Source != "" {
				add(n, "source", str(d.Source))
			}
			optBool(n, "source_outside_project", d.SourceOutsideProject)
			optBool(n, "partitioned", d.Partitioned)
			if d.Schema != nil || d.SchemaFile != "" {
				s, err := schemaNode(d.Schema, d.SchemaFile)
				if err != nil {
					return nil, fmt.Errorf("dataset %q: schema: %w", d.Name, err)
				}
				add(n, "schema", s)
			}
			add(datasets, d.Name, n)
		}
		add(root, "datasets", datasets)
	}
	tasks := mapNode()
	for _, t := range p.Tasks() {
		n := mapNode()
		if t.Build != "" {
			add(n, "build", str(t.Build))
		}
		if t.Module != "" {
			add(n, "module", str(t.Module))
		}
		if t.Inputs != nil {
			add(n, "inputs", list(t.Inputs))
		}
		if t.Outputs != nil {
			add(n, "outputs", list(t.Outputs))
		}
		if t.Compute != nil {
			c, err := computeNode(t.Compute)
			if err != nil {
				return nil, fmt.Errorf("task %q: %w", t.Name, err)
			}
			add(n, "compute", c)
		}
		if t.Params != nil {
			params := mapNode()
			for _, k := range slices.Sorted(maps.Keys(t.Params)) {
				add(params, k, str(t.Params[k]))
			}
			add(n, "params", params)
		}
		if t.Retries != 0 {
			add(n, "retries", num(t.Retries))
		}
		if t.Map != "" {
			add(n, "map", str(t.Map))
		}
		if t.MapBatch != 0 {
			add(n, "map_batch", num(t.MapBatch))
		}
		if t.MaxConcurrency != 0 {
			add(n, "max_concurrency", num(t.MaxConcurrency))
		}
		if t.ToleratedFailures != 0 {
			add(n, "tolerated_failures", str(strconv.FormatFloat(t.ToleratedFailures, 'g', -1, 64)+"%"))
		}
		add(tasks, t.Name, n)
	}
	add(root, "tasks", tasks)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func storageNode(s glacier.Storage) (*yaml.Node, error) {
	n := flowMap()
	add(n, "type", str(s.StorageType()))
	switch s := s.(type) {
	case glacier.ObjectStorage:
		if s.AccessPattern != "" {
			add(n, "access_pattern", str(string(s.AccessPattern)))
		}
		optBool(n, "versioning", s.Versioning)
		optBool(n, "encryption", s.Encryption)
		optNum(n, "retention_days", s.RetentionDays)
	case glacier.Database:
		optBool(n, "encryption", s.Encryption)
		optNum(n, "retention_days", s.RetentionDays)
	case glacier.Cache:
		optNum(n, "ttl_seconds", s.TTLSeconds)
	case glacier.Queue:
		optBool(n, "encryption", s.Encryption)
		optNum(n, "retention_days", s.RetentionDays)
	default:
		return nil, fmt.Errorf("unknown storage type %T", s)
	}
	addHints(n, s.ProviderHints())
	return n, nil
}

func computeNode(c glacier.Compute) (*yaml.Node, error) {
	n := flowMap()
	add(n, "type", str(c.ComputeType()))
	switch c := c.(type) {
	case glacier.Local:
		optNum(n, "workers", c.Workers)
		optNum(n, "memory", c.Memory)
		optNum(n, "timeout", c.Timeout)
	case glacier.Container:
		if c.Image != "" {
			add(n, "image", str(c.Image))
		}
		if c.CPU != 0 {
			add(n, "cpu", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(c.CPU, 'g', -1, 64)})
		}
		optNum(n, "memory", c.Memory)
		optNum(n, "timeout", c.Timeout)
	case glacier.Serverless:
		optNum(n, "memory", c.Memory)
		optNum(n, "timeout", c.Timeout)
	default:
		return nil, fmt.Errorf("unknown compute type %T", c)
	}
	b := glacier.LimitsOf(c).Compile
	optNum(n, "compile_memory", b.MemoryMiB)
	optNum(n, "compile_timeout", b.TimeoutSecs)
	addHints(n, c.ProviderHints())
	return n, nil
}

func addHints(n *yaml.Node, h glacier.Hints) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		add(n, k, str(h[k]))
	}
}

func mapNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func flowMap() *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func num(n int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}
}

func list(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, it := range items {
		n.Content = append(n.Content, str(it))
	}
	return n
}

func add(m *yaml.Node, key string, v *yaml.Node) { m.Content = append(m.Content, str(key), v) }

func optBool(n *yaml.Node, key string, b bool) {
	if b {
		add(n, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
}

func optNum(n *yaml.Node, key string, v int) {
	if v != 0 {
		add(n, key, num(v))
	}
}
