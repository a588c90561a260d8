package aws

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Versions of the Pulumi SDKs the written program depends on. The
// embedded go.mod and go.sum list them and every module they need; a test
// builds a written project offline to prove go.sum complete, and
// `go test -run TestModuleFiles -update` rewrites both after a change here.
const (
	PulumiSDKVersion    = "v3.274.1"
	PulumiAWSSDKVersion = "v6.83.4"
)

// write lays out the project under opts.Out. It replaces artifacts/ and
// sources/ wholesale, so nothing from an earlier compilation lingers, and
// leaves other files (such as a stack's Pulumi.<stack>.yaml) alone.
func write(opts Options, dep *deployment, arts []artifact) error {
	out := opts.Out
	for _, dir := range []string{"artifacts", "sources"} {
		if err := os.RemoveAll(filepath.Join(out, dir)); err != nil {
			return fmt.Errorf("aws: clearing %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(out, "artifacts"), 0o755); err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	for _, a := range arts {
		if err := writeFile(out, a.Path, a.Zip); err != nil {
			return err
		}
	}
	for _, d := range dep.Datasets {
		if d.SourceFile == "" {
			continue
		}
		if err := copyFile(filepath.Join(opts.Dir, filepath.FromSlash(d.Source)), filepath.Join(out, filepath.FromSlash(d.SourceFile))); err != nil {
			return fmt.Errorf("aws: dataset %q: copying source: %w", d.Name, err)
		}
	}
	files, err := projectFiles(dep, arts)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := writeFile(out, f.name, f.data); err != nil {
			return err
		}
	}
	return nil
}

type file struct {
	name string
	data []byte
}

// projectFiles renders every text file of the project.
func projectFiles(dep *deployment, arts []artifact) ([]file, error) {
	asl, err := definition(dep)
	if err != nil {
		return nil, err
	}
	mainGo, err := program(dep)
	if err != nil {
		return nil, err
	}
	pulumiYAML, err := render("Pulumi.yaml.tmpl", dep)
	if err != nil {
		return nil, err
	}
	readme, err := render("README.md.tmpl", readmeData{deployment: dep, Artifacts: arts, Marker: marker})
	if err != nil {
		return nil, err
	}
	goMod, goSum, err := moduleFiles(dep.Pipeline)
	if err != nil {
		return nil, err
	}
	return []file{
		{"Pulumi.yaml", pulumiYAML},
		{"main.go", mainGo},
		{"go.mod", goMod},
		{"go.sum", goSum},
		{"statemachine.asl.json", asl},
		{"README.md", readme},
	}, nil
}

type readmeData struct {
	*deployment
	Artifacts []artifact
	Marker    string
}

// moduleFiles returns go.mod and go.sum for a project: the embedded
// templates, with the module named after the pipeline.
func moduleFiles(pipeline string) (goMod, goSum []byte, err error) {
	mod, err := templates.ReadFile("templates/go.mod.txt")
	if err != nil {
		return nil, nil, err
	}
	sum, err := templates.ReadFile("templates/go.sum.txt")
	if err != nil {
		return nil, nil, err
	}
	_, rest, ok := strings.Cut(string(mod), "\n")
	if !ok {
		return nil, nil, fmt.Errorf("aws: embedded go.mod is empty")
	}
	return []byte("module " + modulePath(pipeline) + "\n" + rest), sum, nil
}

// modulePath is the written project's module path.
func modulePath(pipeline string) string { return pipeline + "/aws" }

func writeFile(out, name string, data []byte) error {
	path := filepath.Join(out, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	return nil
}

// copyFile streams src to dst, so a large source is never held in memory.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in)
	return err
}
