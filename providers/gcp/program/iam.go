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
	// ObjectOnly limits the grant, by an IAM condition, to the dataset's
	// object.
	ObjectOnly bool
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
		if g.ObjectOnly {
			args.Condition = &storage.BucketIAMMemberConditionArgs{
				Title:      pulumi.String("only-the-dataset-object"),
				Expression: pulumi.Sprintf(`resource.name == "projects/_/buckets/%s/objects/%s"`, g.Dataset.Bucket.Name, g.Dataset.Name),
			}
		}
		b, err := storage.NewBucketIAMMember(ctx, accountID+"-"+g.What+"-"+g.Dataset.Name, args)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
