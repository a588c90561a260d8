package gcp

import (
	"slices"

	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/store"
)

// Predefined roles a task is granted on its datasets' buckets.
const (
	roleObjectViewer  = "roles/storage.objectViewer"
	roleObjectCreator = "roles/storage.objectCreator"
)

// grant is one role a task's service account holds on a dataset's bucket.
// main.go lists every grant, so a change of permissions shows in its diff.
type grant struct {
	// What the grant is for (reads, writes, versions, replaces): its binding
	// is named <account>-<what>-<dataset>.
	What    string
	Dataset string
	// Role is a predefined role, or the ID of a custom role the program
	// declares.
	Role string
	// Keys limit it, by an IAM condition, to these object names, where a
	// '*' stands for any run of characters.
	Keys []string
}

// taskGrants are the roles of t's service account, derived from its data
// flow over the store (docs/store.md), each limited by an IAM condition
// to the names it needs: objectViewer on its inputs' versions and on the
// refs or source records naming them; on each output, objectCreator on
// its staging names (a partitioned output's parts in a folder of their
// own), its versions and its stable name, objectViewer on its staging
// names and versions (to copy and to look for one), and writerRole where
// an object is replaced or removed (the stable name, the staged copy); on
// the state bucket, objectViewer and objectCreator on its own memo
// entries, ref and run records, and writerRole on the ref and records it
// replaces. Nothing of another task's. For each output in retire, it may
// also move a replaced version to its retired name and bring one back
// (store.Retire, store.Revive): retired names are written, read and
// replaced as versions are, and versions are removed.
func taskGrants(t plan.Task, pipeline, writerRole string, retire []string) []grant {
	var out []grant
	refs := []string{store.MemoPrefix(t.Name) + "*", store.RefName(pipeline, t.Name)}
	for _, d := range t.Reads {
		out = append(out, grant{What: "reads", Dataset: d, Role: roleObjectViewer, Keys: []string{store.ObjectsPrefix + "*"}})
		ref := store.SourceName(pipeline, d)
		if p, ok := t.Producers[d]; ok {
			ref = store.RefName(pipeline, p)
		}
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	for _, d := range t.Writes {
		staged := []string{store.StagingName("*", t.Name, d)}
		if slices.Contains(t.Partitioned, d) {
			staged = append(staged, store.PartStagingPrefix("", t.Name, d)+"/*")
		}
		writes := append(slices.Clone(staged), store.ObjectsPrefix+"*", d)
		versions := append(slices.Clone(staged), store.ObjectsPrefix+"*")
		replaces := append(slices.Clone(staged), d)
		if slices.Contains(retire, d) {
			writes = append(writes, store.RetiredPrefix+"*")
			versions = append(versions, store.RetiredPrefix+"*")
			replaces = append(replaces, store.ObjectsPrefix+"*", store.RetiredPrefix+"*")
		}
		out = append(out,
			grant{What: "writes", Dataset: d, Role: roleObjectCreator, Keys: writes},
			grant{What: "versions", Dataset: d, Role: roleObjectViewer, Keys: versions},
			grant{What: "replaces", Dataset: d, Role: writerRole, Keys: replaces})
	}
	own := []string{store.RefName(pipeline, t.Name), store.RunTaskName("*", t.Name)}
	if t.Map != "" {
		own = append(own, store.RunPartPrefix(t.Name)+"*")
	}
	return append(out,
		grant{What: "reads", Dataset: compile.StateName, Role: roleObjectViewer, Keys: refs},
		grant{What: "writes", Dataset: compile.StateName, Role: roleObjectCreator, Keys: append([]string{store.MemoPrefix(t.Name) + "*"}, own...)},
		grant{What: "replaces", Dataset: compile.StateName, Role: writerRole, Keys: own})
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
