package plan

import (
	"fmt"

	"github.com/glacier-pipeline/glacier"
)

// Check returns the problems every cloud target shares, all at once and in
// declaration order: datasets whose storage is not object storage, and
// tasks whose compute is local. target names the cloud
// in the messages ("AWS", "GCP"); serverless names its function service
// ("AWS Lambda", "Cloud Functions"). Storage and compute kinds nothing runs
// yet (database, cache, queue, container) never get here: glacier's
// Validate refuses them for every target.
func (pl *Flow) Check(target, serverless string) glacier.Problems {
	var out glacier.Problems
	errorf := func(kind, name, format string, args ...any) {
		out = append(out, glacier.Problem{Severity: glacier.Error, Kind: kind, Name: name, Msg: fmt.Sprintf(format, args...)})
	}
	for _, d := range pl.Datasets {
		if _, ok := d.Storage.(glacier.ObjectStorage); !ok && d.Storage != nil {
			errorf("dataset", d.Name, "has %s storage, which the %s compiler does not know", d.Storage.StorageType(), target)
		}
	}
	for _, t := range pl.Tasks {
		switch c := t.Compute.(type) {
		case nil, glacier.Local:
			errorf("task", t.Name, "has local compute, which runs only on this machine and cannot be compiled for %s; "+
				"set compute: {type: serverless} to run it on %s", target, serverless)
		case glacier.Serverless:
		default:
			errorf("task", t.Name, "has compute %T, which the %s compiler does not know", c, target)
		}
	}
	return out
}

// Report is how compilers record problems: Report(severity, kind, name)
// returns a printf-like function that adds a problem of that culprit.
type Report func(sev glacier.Severity, kind, name string) func(format string, args ...any)

// Reporter returns a Report that appends to probs.
func Reporter(probs *glacier.Problems) Report {
	return func(sev glacier.Severity, kind, name string) func(string, ...any) {
		return func(format string, args ...any) {
			*probs = append(*probs, glacier.Problem{Severity: sev, Kind: kind, Name: name, Msg: fmt.Sprintf(format, args...)})
		}
	}
}
