package sfntest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Inlining a Distributed Map.
//
// aws-local-stepfunctions runs a Map state inline: it takes its items from
// the state's input (ItemsPath) and knows neither ItemReader, ItemBatcher,
// ToleratedFailurePercentage nor ResultWriter. Inline rewrites each
// Distributed Map state N into a Parallel state N of one branch that does
// the same with what the library runs:
//
//	N (ItemReader)      Task: reads the items, the JSON array in S3 that
//	                    ItemReader names, through Options.S3
//	N (ItemSelector)    inline Map whose Pass processor applies the
//	                    ItemSelector to each item, with $$.Map.Item as
//	                    Distributed Map sets it
//	N (ItemBatcher)     Pass: States.ArrayPartition cuts the selected items
//	                    into batches of MaxItemsPerBatch, in order
//	N (ItemProcessor)   inline Map over the batches: each child gets
//	                    {"Items": batch, "BatchInput": ...}, the BatchInput
//	                    evaluated against the Map's input and context, as
//	                    ItemBatcher gives it; MaxConcurrency is kept. Each
//	                    of the processor's Task, Parallel and Map states
//	                    gets a last Catch leading to N (failed items), a
//	                    Pass that answers how many items the child had
//	N (ToleratedFailurePercentage)
//	                    Task: fails with States.ExceedToleratedFailureThreshold
//	                    if the failed items are more than the percentage
//	                    of all (zero when unset), as Distributed Map counts
//	                    them: a failed child fails every item of its batch
//
// The Parallel state keeps N's ResultPath (which must be null: a
// ResultWriter's output is not emulated, nor written), Next, End, Retry
// and Catch, so the states around it see what they would see in AWS; the
// branch's own fields never leave it. Every other state is left as it is,
// and the processor's states gain only that Catch. Fields the
// transformation cannot emulate (MaxInputBytesPerBatch, ItemsPath,
// ToleratedFailureCount, a reader other than a JSON object, ...) are
// refused, naming them, rather than run differently.
//
// ItemBatcher's byte limit (MaxInputBytesPerBatch, 256 KiB by default) is
// not applied: a batch is cut by its count alone.

// Inlined is a definition with its Distributed Maps inlined.
type Inlined struct {
	// Definition is the definition aws-local-stepfunctions runs.
	Definition json.RawMessage
	// readers are the states that read a map's items, with how many to
	// read at most (0 for all); tolerances those that apply a map's
	// tolerance, with the percentage.
	readers    map[string]int
	tolerances map[string]float64
}

// Names of the states a Distributed Map N becomes.
func readerState(n string) string    { return n + " (ItemReader)" }
func selectorState(n string) string  { return n + " (ItemSelector)" }
func batcherState(n string) string   { return n + " (ItemBatcher)" }
func processorState(n string) string { return n + " (ItemProcessor)" }
func toleranceState(n string) string { return n + " (ToleratedFailurePercentage)" }
func failedState(n string) string    { return n + " (failed items)" }

// Fields of the branch's input where the items, batches and results go.
const (
	itemsField   = "$.glacierInlineItems"
	batchesField = "$.glacierInlineBatches"
	resultsField = "$.glacierInlineResults"
	errorField   = "$.glacierInlineError"
)

// ExceedToleratedFailureThreshold is the error of a Distributed Map whose
// failed items are more than it tolerates.
const ExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"

// Inline returns def with every Distributed Map state inlined, as the
// comment above describes; a definition without one comes back
// unchanged.
func Inline(def []byte) (*Inlined, error) {
	var sm map[string]any
	if err := json.Unmarshal(def, &sm); err != nil {
		return nil, fmt.Errorf("sfntest: definition: %w", err)
	}
	in := &Inlined{readers: map[string]int{}, tolerances: map[string]float64{}}
	states, _ := sm["States"].(map[string]any)
	if err := in.walk(states); err != nil {
		return nil, err
	}
	if len(in.readers) == 0 {
		in.Definition = json.RawMessage(def)
		return in, nil
	}
	out, err := json.Marshal(sm)
	if err != nil {
		return nil, err
	}
	in.Definition = out
	return in, nil
}

// walk inlines the Distributed Maps among states and in the states
// nested in them.
func (in *Inlined) walk(states map[string]any) error {
	for _, name := range sortedKeys(states) {
		st, _ := states[name].(map[string]any)
		for _, br := range asList(st["Branches"]) {
			if err := in.walk(asObject(asObject(br)["States"])); err != nil {
				return err
			}
		}
		for _, key := range []string{"ItemProcessor", "Iterator"} {
			if p := asObject(st[key]); p != nil {
				if err := in.walk(asObject(p["States"])); err != nil {
					return err
				}
			}
		}
		if st["Type"] == "Map" && asObject(asObject(st["ItemProcessor"])["ProcessorConfig"])["Mode"] == "DISTRIBUTED" {
			rewritten, err := in.inline(name, st)
			if err != nil {
				return fmt.Errorf("sfntest: Distributed Map %q: %w", name, err)
			}
			states[name] = rewritten
		}
	}
	return nil
}

// inlinable are the fields of a Distributed Map Inline emulates.
var inlinable = []string{"Type", "Comment", "ItemReader", "ItemSelector", "ItemBatcher", "ItemProcessor",
	"MaxConcurrency", "ToleratedFailurePercentage", "ResultWriter", "ResultPath", "Next", "End", "Retry", "Catch"}

// inline returns the Parallel state that stands for Distributed Map m,
// named n.
func (in *Inlined) inline(n string, m map[string]any) (map[string]any, error) {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(inlinable, k) {
			return nil, fmt.Errorf("field %s is not emulated; the fields Inline emulates are %s", k, strings.Join(inlinable, ", "))
		}
	}
	if rp, ok := m["ResultPath"]; !ok || rp != nil {
		return nil, fmt.Errorf("ResultPath must be null: the output of a ResultWriter is not emulated")
	}
	reader := asObject(m["ItemReader"])
	if reader == nil {
		return nil, fmt.Errorf("it has no ItemReader: its items would come from its input, which an inline Map does already")
	}
	cfg := asObject(reader["ReaderConfig"])
	for _, k := range sortedKeys(cfg) {
		if k != "InputType" && k != "MaxItems" {
			return nil, fmt.Errorf("ItemReader.ReaderConfig.%s is not emulated", k)
		}
	}
	if reader["Resource"] != "arn:aws:states:::s3:getObject" || cfg["InputType"] != "JSON" {
		return nil, fmt.Errorf("ItemReader reads %v with InputType %v; only arn:aws:states:::s3:getObject with InputType JSON is emulated",
			reader["Resource"], cfg["InputType"])
	}
	maxItems := 0
	if v, ok := cfg["MaxItems"].(float64); ok {
		maxItems = int(v)
	}
	in.readers[readerState(n)] = maxItems
	pct, _ := m["ToleratedFailurePercentage"].(float64)
	in.tolerances[toleranceState(n)] = pct

	states := map[string]any{}
	chain := []string{readerState(n)}
	states[readerState(n)] = map[string]any{
		"Type": "Task", "Resource": reader["Resource"], "Parameters": reader["Parameters"], "ResultPath": itemsField,
	}
	if sel, ok := m["ItemSelector"]; ok {
		chain = append(chain, selectorState(n))
		pass := n + " (select one item)"
		states[selectorState(n)] = map[string]any{
			"Type": "Map", "ItemsPath": itemsField, "ItemSelector": sel, "ResultPath": itemsField,
			"ItemProcessor": map[string]any{"StartAt": pass, "States": map[string]any{pass: map[string]any{"Type": "Pass", "End": true}}},
		}
	}
	items, failed := itemsField, any(1)
	process := map[string]any{"Type": "Map", "ResultPath": resultsField}
	if b, ok := m["ItemBatcher"]; ok {
		batcher := asObject(b)
		for _, k := range sortedKeys(batcher) {
			if k != "MaxItemsPerBatch" && k != "BatchInput" {
				return nil, fmt.Errorf("ItemBatcher.%s is not emulated", k)
			}
		}
		size, ok := batcher["MaxItemsPerBatch"].(float64)
		if !ok || size < 1 {
			return nil, fmt.Errorf("ItemBatcher.MaxItemsPerBatch is %v; Inline needs a positive count", batcher["MaxItemsPerBatch"])
		}
		chain = append(chain, batcherState(n))
		states[batcherState(n)] = map[string]any{
			"Type": "Pass", "ResultPath": batchesField,
			"Parameters": map[string]any{"batches.$": fmt.Sprintf("States.ArrayPartition(%s, %d)", itemsField, int(size))},
		}
		items, failed = batchesField+".batches", "States.ArrayLength($.Items)"
		selector := map[string]any{"Items.$": "$$.Map.Item.Value"}
		if bi, ok := batcher["BatchInput"]; ok {
			selector["BatchInput"] = bi
		}
		process["ItemSelector"] = selector
	}
	process["ItemsPath"] = items
	if c, ok := m["MaxConcurrency"]; ok {
		process["MaxConcurrency"] = c
	}
	processor, err := catchFailures(asObject(m["ItemProcessor"]), failedState(n), failed)
	if err != nil {
		return nil, err
	}
	process["ItemProcessor"] = processor
	chain = append(chain, processorState(n), toleranceState(n))
	states[processorState(n)] = process
	states[toleranceState(n)] = map[string]any{
		"Type": "Task", "Resource": "arn:aws:states:::glacier:toleratedFailurePercentage", "ResultPath": nil,
		"Parameters": map[string]any{"total.$": "States.ArrayLength(" + itemsField + ")", "results.$": resultsField},
	}
	for i, s := range chain {
		st := states[s].(map[string]any)
		if i+1 < len(chain) {
			st["Next"] = chain[i+1]
		} else {
			st["End"] = true
		}
	}

	out := map[string]any{
		"Type":       "Parallel",
		"Comment":    "Distributed Map " + n + ", inlined by sfntest.Inline",
		"Branches":   []any{map[string]any{"StartAt": chain[0], "States": states}},
		"ResultPath": nil,
	}
	for _, k := range []string{"Next", "End", "Retry", "Catch"} {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// catchFailures returns a copy of the processor p without its
// ProcessorConfig, each of its Task, Parallel and Map states with a last
// Catch leading to a Pass state named failed that answers
// {"failedItems": count}.
func catchFailures(p map[string]any, failed string, count any) (map[string]any, error) {
	states := asObject(p["States"])
	out := map[string]any{"StartAt": p["StartAt"]}
	copied := map[string]any{}
	for _, name := range sortedKeys(states) {
		st := asObject(states[name])
		c := make(map[string]any, len(st)+1)
		for k, v := range st {
			c[k] = v
		}
		switch st["Type"] {
		case "Fail":
			return nil, fmt.Errorf("its processor's state %q is a Fail state, which no Catch counts as a failed item", name)
		case "Task", "Parallel", "Map":
			c["Catch"] = append(slices.Clone(asList(st["Catch"])),
				map[string]any{"ErrorEquals": []any{"States.ALL"}, "ResultPath": errorField, "Next": failed})
		}
		copied[name] = c
	}
	answer := map[string]any{"failedItems": count}
	if s, ok := count.(string); ok {
		answer = map[string]any{"failedItems.$": s}
	}
	copied[failed] = map[string]any{"Type": "Pass", "Parameters": answer, "End": true}
	out["States"] = copied
	return out, nil
}

// serve does the work of an inlined map's own Task states; ok is false
// for any other state.
func (in *Inlined) serve(ctx context.Context, opts Options, state string, input []byte) (out json.RawMessage, ok bool, err error) {
	if maxItems, isReader := in.readers[state]; isReader {
		var at struct{ Bucket, Key string }
		if err := json.Unmarshal(input, &at); err != nil {
			return nil, true, err
		}
		if opts.S3 == nil {
			return nil, true, fmt.Errorf("state %q reads s3://%s/%s, but Options.S3 is nil", state, at.Bucket, at.Key)
		}
		data, err := opts.S3(ctx, at.Bucket, at.Key)
		if err != nil {
			return nil, true, &TaskError{Type: "States.ItemReaderFailed", Message: err.Error()}
		}
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, true, &TaskError{Type: "States.ItemReaderFailed", Message: fmt.Sprintf("s3://%s/%s is not a JSON array: %v", at.Bucket, at.Key, err)}
		}
		if maxItems > 0 && len(items) > maxItems {
			items = items[:maxItems]
		}
		if items == nil {
			items = []json.RawMessage{}
		}
		b, err := json.Marshal(items)
		return b, true, err
	}
	pct, isTolerance := in.tolerances[state]
	if !isTolerance {
		return nil, false, nil
	}
	var res struct {
		Total   int `json:"total"`
		Results []struct {
			FailedItems int `json:"failedItems"`
		} `json:"results"`
	}
	if err := json.Unmarshal(input, &res); err != nil {
		return nil, true, err
	}
	failed := 0
	for _, r := range res.Results {
		failed += r.FailedItems
	}
	if float64(failed)*100 > pct*float64(res.Total) {
		return nil, true, &TaskError{Type: ExceedToleratedFailureThreshold,
			Message: fmt.Sprintf("%d of %d items failed, over the %g%% tolerated", failed, res.Total, pct)}
	}
	return json.RawMessage(`{}`), true, nil
}

func asObject(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any            { l, _ := v.([]any); return l }

// sortedKeys are m's keys in order, so a rewrite and its errors do not
// depend on map order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
