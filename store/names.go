package store

import "path"

// The store's names, relative to their root: a dataset's root for
// ObjectName and StagingName, the state for the rest. The compilers use
// them to upload sources and to grant each function exactly its names;
// "*" in place of a run ID or a key makes the pattern an IAM policy
// takes.

// ObjectName is the name of the version whose hex SHA-256 is digest.
func ObjectName(digest string) string {
	return path.Join("objects", digest[:2], digest)
}

// ObjectsPrefix is the prefix of every version of a dataset.
const ObjectsPrefix = "objects/"

// RetiredName is where the version whose hex SHA-256 is digest is moved
// once no ref names it, for a lifecycle rule to expire (see Store.Retire).
func RetiredName(digest string) string {
	return path.Join("retired", digest[:2], digest)
}

// RetiredPrefix is the prefix of every retired version, which a lifecycle
// rule expires after the dataset's retention.
const RetiredPrefix = "retired/"

// StagingName is where run runID's task stages its output dataset.
func StagingName(runID, task, dataset string) string {
	return path.Join("staging", runID, task, dataset)
}

// StagingPrefix is the prefix of every staged output, which a lifecycle
// rule expires: what is left there is a failed run's.
const StagingPrefix = "staging/"

// MemoName is the memo entry of task's invocation with cache key key.
func MemoName(task, key string) string {
	return path.Join("memo", task, key+".json")
}

// RefName is the ref of pipeline's task.
func RefName(pipeline, task string) string {
	return path.Join("pipelines", pipeline, "tasks", task+".json")
}

// SourceName is the record of pipeline's source dataset's current
// version.
func SourceName(pipeline, dataset string) string {
	return path.Join("pipelines", pipeline, "sources", dataset+".json")
}

// RunTaskName is what task did in run runID.
func RunTaskName(runID, task string) string {
	return path.Join("runs", runID, "tasks", task+".json")
}

// RunPartName is what part key of map task task did in run runID: under
// the task first, so that one prefix (RunPartPrefix) names every record a
// task's function writes of its parts.
func RunPartName(runID, task, key string) string {
	return path.Join(RunPartPrefix(task), runID, key+".json")
}

// RunPartPrefix is the prefix of task's records of its parts.
func RunPartPrefix(task string) string {
	return path.Join("parts", task) + "/"
}

// MemoPrefix is the prefix of task's memo entries.
func MemoPrefix(task string) string {
	return path.Join("memo", task) + "/"
}

// LayoutName is the record of where pipeline's datasets live (a
// LayoutRecord), which a deployment writes so that a reader given the
// state's URL alone finds every version.
func LayoutName(pipeline string) string {
	return path.Join("pipelines", pipeline, "layout.json")
}

// PartStagingName is where run runID's task stages part key of
// partitioned output dataset.
func PartStagingName(runID, task, dataset, key string) string {
	return path.Join(PartStagingPrefix(runID, task, dataset), key)
}

// PartStagingPrefix is the folder under which run runID's task stages the
// parts of partitioned output dataset. The run comes after the task and
// the dataset, so that PartStagingPrefix("", task, dataset) is a prefix
// of every run's, which a grant can name.
func PartStagingPrefix(runID, task, dataset string) string {
	return path.Join("staging", task, dataset+".parts", runID)
}
