package gcp

import (
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
	// What the grant is for (reads, writes, replaces): its binding is
	// named <account>-<what>-<dataset>.
	What    string
	Dataset string
	// Role is a predefined role, or the ID of a custom role the program
	// declares.
	Role string
	// ObjectOnly limits the grant, by an IAM condition, to the dataset's
	// object.
	ObjectOnly bool
}

// taskGrants are the roles of t's service account, derived from its data
// flow: objectViewer on each input's bucket; objectCreator on each
// output's bucket, and writerRole (storage.objects.delete, which
// replacing an object needs) on the output's object alone. Nothing else:
// no other bucket, no project-wide role.
func taskGrants(t plan.Task, writerRole string) []grant {
	var out []grant
	for _, d := range t.Reads {
		out = append(out, grant{What: "reads", Dataset: d, Role: roleObjectViewer})
	}
	for _, d := range t.Writes {
		out = append(out,
			grant{What: "writes", Dataset: d, Role: roleObjectCreator},
			grant{What: "replaces", Dataset: d, Role: writerRole, ObjectOnly: true})
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
