//go:build glacier_program

package main

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// grant is one role a task's service account holds on a dataset's bucket,
// as the compiler derived it from the pipeline's data flow.
type grant struct {
	// What the grant is for: its binding is named
	// <account>-<what>-<dataset>.
	What    string
	Dataset *dataset
	// Role is a predefined role (roles/...) or the ID of one of the
	// program's custom roles.
	Role string
	// Keys, if any, limit it to these object names, where a '*' stands
	// for any run of characters.
	Keys []string
}

// keysCondition is the IAM condition limiting a grant on d's bucket to the
// objects named by keys.
func keysCondition(d *dataset, keys []string) *storage.BucketIAMMemberConditionArgs {
	var terms []any
	for _, k := range keys {
		prefix, rest, wild := strings.Cut(k, "*")
		object := pulumi.Sprintf("projects/_/buckets/%s/objects/%s", d.Bucket.Name, prefix)
		switch {
		case !wild:
			terms = append(terms, pulumi.Sprintf(`resource.name == "%s"`, object))
		case rest == "":
			terms = append(terms, pulumi.Sprintf(`resource.name.startsWith("%s")`, object))
		default:
			terms = append(terms, pulumi.Sprintf(`(resource.name.startsWith("%s") && resource.name.endsWith("%s"))`, object, rest))
		}
	}
	return &storage.BucketIAMMemberConditionArgs{
		Title: pulumi.String("only-the-task-s-names"),
		Expression: pulumi.All(terms...).ApplyT(func(all []any) string {
			s := make([]string, len(all))
			for i, t := range all {
				s[i] = t.(string)
			}
			return strings.Join(s, " || ")
		}).(pulumi.StringOutput),
	}
}

// grantAll binds account, whose ID is accountID, to its roles on the
// datasets' buckets, and returns the bindings.
func grantAll(ctx *pulumi.Context, s *shared, accountID string, account *serviceaccount.Account, grants []grant) ([]pulumi.Resource, error) {
	member := pulumi.Sprintf("serviceAccount:%s", account.Email)
	var out []pulumi.Resource
	for _, g := range grants {
		var role pulumi.StringInput = pulumi.String(g.Role)
		if !strings.HasPrefix(g.Role, "roles/") {
			custom, ok := s.Roles[g.Role]
			if !ok {
				return nil, fmt.Errorf("grant of %s to %s: the program declares no custom role %q", g.What, accountID, g.Role)
			}
			role = custom.Name
		}
		args := &storage.BucketIAMMemberArgs{Bucket: g.Dataset.Bucket.Name, Role: role, Member: member}
		if len(g.Keys) > 0 {
			args.Condition = keysCondition(g.Dataset, g.Keys)
		}
		b, err := storage.NewBucketIAMMember(ctx, accountID+"-"+g.What+"-"+g.Dataset.Name, args)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
