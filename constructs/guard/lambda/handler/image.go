package handler

import (
	"context"
	"fmt"
	"strings"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// ImageDescriber is the one ECR call the image check needs.
type ImageDescriber interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

var _ ImageDescriber = (*ecr.Client)(nil)

// ImageCheck passes when the image tagged with the job's full commit id exists in an ECR
// repository (the dev build pushed it); it resolves the image's digest. It calls ECR with
// the guard's own credentials: the registry's repository policy grants it DescribeImages.
type ImageCheck struct {
	// Describer reads the registry.
	Describer ImageDescriber
	// Repository is the ECR repository name, e.g. "payments/checkout".
	Repository string
	// RegistryID is the registry's account id. Default: - the guard's own account.
	RegistryID string
	// Region is the registry's region (used in ImageUri and messages).
	Region string
}

// Name is "image".
func (c *ImageCheck) Name() string { return "image" }

// Check describes the image tagged job.Commit; on a pass it outputs ImageDigest and ImageUri.
func (c *ImageCheck) Check(ctx context.Context, job Job) (Result, error) {
	in := &ecr.DescribeImagesInput{
		RepositoryName: aws.String(c.Repository),
		ImageIds:       []types.ImageIdentifier{{ImageTag: aws.String(job.Commit)}},
	}
	if c.RegistryID != "" {
		in.RegistryId = aws.String(c.RegistryID)
	}
	where := c.Repository
	if c.RegistryID != "" {
		where = fmt.Sprintf("%s of registry %s", c.Repository, c.RegistryID)
	}
	out, err := c.Describer.DescribeImages(ctx, in)
	if err != nil {
		switch code := errorCode(err); {
		case ctx.Err() != nil:
		case code == "ImageNotFoundException":
			return Result{Summary: c.missing(job, where)}, nil
		case code == "RepositoryNotFoundException":
			return Result{}, &CheckError{Err: err, Message: fmt.Sprintf(
				"ECR repository %s does not exist (region %s); check %s, %s and %s",
				where, c.Region, EnvImageRepository, EnvImageRegistryID, EnvImageRegion)}
		case code == "AccessDeniedException":
			return Result{}, &CheckError{Err: err, Message: fmt.Sprintf(
				"the guard may not describe images in ECR repository %s: access denied (%s); the repository policy must grant its role ecr:DescribeImages",
				where, code)}
		}
		return Result{}, explain(ctx, "describing image "+c.Repository+":"+gate.Short(job.Commit), err)
	}
	var d *types.ImageDetail
	for i := range out.ImageDetails {
		if strings.HasPrefix(aws.ToString(out.ImageDetails[i].ImageDigest), "sha256:") {
			d = &out.ImageDetails[i]
			break
		}
	}
	if d == nil {
		return Result{Summary: c.missing(job, where)}, nil
	}
	digest := aws.ToString(d.ImageDigest)
	registry := aws.ToString(d.RegistryId)
	if registry == "" {
		registry = c.RegistryID
	}
	uri := fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s@%s", registry, c.Region, c.Repository, digest)
	return Result{
		Passed:  true,
		Summary: fmt.Sprintf("image %s@%s exists", c.Repository, limit(digest, len("sha256:")+12+len("…"))),
		Outputs: map[string]string{"ImageDigest": digest, "ImageUri": uri},
	}, nil
}

func (c *ImageCheck) missing(job Job, where string) string {
	return fmt.Sprintf("commit %s has no image in ECR repository %s (tag %s not found); the dev build may not have pushed it",
		gate.Short(job.Commit), where, job.Commit)
}
