package gcp

import (
	"slices"

	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// Predefined roles a task is granted on its datasets' buckets.
const (
	roleObjectViewer  = "roles/storage.objectViewer"
	roleObjectCreator = "roles/storage.objectCreator"
)

// grant is one role a task's service account holds on a dataset's bucket.
// main.go lists every grant, so a change of permissions shows in its diff.
type grant struct {
	// What the grant is for (reads, writes, replaces, lists): its binding
	// is named <account>-<what>-<dataset>.
	What    string
	Dataset string
	// Role is a predefined role, or the ID of a custom role the program
	// declares.
	Role string
	// Scope limits the grant, by an IAM condition, within the bucket.
	Scope scope
}

// scope is what an IAM condition limits a grant to within a dataset's
// bucket. Cloud Storage evaluates a condition per request: on the object's
// name (resource.name) for an object, and on the listing's prefix
// (storage.googleapis.com/objectListPrefix) for a listing, whose resource
// is the bucket. Prefixes of names are as fine as it goes.
type scope int

const (
	// bucketScope: the whole bucket, no condition.
	bucketScope scope = iota
	// objectScope: the dataset's object alone.
	objectScope
	// objectAndRunsScope: the dataset's object and the objects under its
	// runs' prefix, <dataset>.runs/ (see fnspec.RunPrefix), where a
	// partitioned dataset's runs stage its parts.
	objectAndRunsScope
	// runListingScope: listings of the objects under the runs' prefix.
	runListingScope
)

// scopeNames are the scopes as the program names them.
var scopeNames = map[scope]string{
	objectScope:        "objectScope",
	objectAndRunsScope: "objectAndRunsScope",
	runListingScope:    "runListingScope",
}

// taskGrants are the roles of t's service account, derived from its data
// flow: objectViewer on each input's bucket (which lists it too, so a
// partitioned input's parts can be found); objectCreator on each output's
// bucket, and writerRole (storage.objects.delete, which replacing an
// object needs) on the output's object alone, and on a partitioned
// output's runs' parts, which a retried invocation writes again. A map
// task's commit lists the parts its run staged, so it holds listerRole
// (storage.objects.list) on listings of its outputs' runs. Nothing else:
// no other bucket, no project-wide role.
func taskGrants(t plan.Task, writerRole, listerRole string) []grant {
	var out []grant
	for _, d := range t.Reads {
		out = append(out, grant{What: "reads", Dataset: d, Role: roleObjectViewer})
	}
	for _, d := range t.Writes {
		replaces := objectScope
		if slices.Contains(t.Partitioned, d) {
			replaces = objectAndRunsScope
		}
		out = append(out,
			grant{What: "writes", Dataset: d, Role: roleObjectCreator},
			grant{What: "replaces", Dataset: d, Role: writerRole, Scope: replaces})
		if t.Map != "" {
			out = append(out, grant{What: "lists", Dataset: d, Role: listerRole, Scope: runListingScope})
		}
	}
	return out
}

// workflowInvokes are the tasks whose functions the workflow's service
// account may invoke (roles/run.invoker on each one's Cloud Run service):
// exactly the pipeline's.
func workflowInvokes(tasks []*compile.Task) []string {
	var out []string
	for _, t := range tasks {
		out = append(out, t.Name)
	}
	return out
}
