package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The SBOM of what an environment runs: its deployed run (the newest that left its commit
// deployed, as status reads it), that run's image digest (the first environment's Build
// action exports IMAGE_DIGEST, every other environment's Guard action ImageDigest), and the
// object the first environment's build stored under that digest in the registry account's
// SBOM bucket (org.Registry.SbomBucketName, org.Path.SbomKey), read with the environment's
// own credentials.

// The actions whose output variables carry the image digest, as envpipeline names them (not
// imported: envpipeline is CDK code, ship stays free of jsii).
const (
	stageBuild     = "Build"
	actionBuild    = "Build"
	varBuildDigest = "IMAGE_DIGEST" // envpipeline.VarImageDigest, exported by the build
	varGuardDigest = "ImageDigest"  // the guard's output variable
)

// sbomMaxBytes bounds what ship reads: an SBOM of a very large image is tens of MB.
const sbomMaxBytes = 512 << 20

var imageDigest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func (c *cli) sbomCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "sbom <env>",
		Short: "print the SBOM (SPDX JSON) of the image <env> runs, or write it to -o FILE",
		Long: `Sbom fetches the software bill of materials of the image <env> runs: the image of its
deployed commit (the newest run that left its commit deployed, as ship status shows it;
a rollback's is its target's), found by digest. The first environment's build made the
SBOM from the pushed image (syft, SPDX 2.3 JSON) and stored it in the registry account:
  s3://pathtoprod-sbom-<registry account>-<region>/<team>/<service>/<digest>.spdx.json
Every environment reads the same object, since it runs the same bytes.

It reads with <env>'s credentials (--profile/--role as for every command), which need
codepipeline:ListPipelineExecutions and codepipeline:ListActionExecutions on <env>'s
pipeline, s3:GetObject on the path's SBOMs and kms:Decrypt on the registry's SBOM key
(alias/pathtoprod-sbom), which the registry's bucket and key policies allow every
account of the path.

With -o FILE the SBOM is written to FILE and a line says what it is; without it the SBOM
alone goes to stdout.`,
		Example: `  ship sbom prd > prd.spdx.json
  ship sbom stg -o stg.spdx.json
  ship sbom prd | jq -r '.packages[] | "\(.name) \(.versionInfo)"'`,
		Args:              positional,
		ValidArgsFunction: c.completeEnv(nil),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.sbom(ctx, args[0], output)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the SBOM to `FILE` instead of stdout")
	return cmd
}

// deployedImage is what an environment runs, as far as its SBOM is concerned.
type deployedImage struct {
	run    Execution // the deployed run
	source string    // the run whose actions resolved the image: the run, or a rollback's target
	commit string
	digest string
}

// sbom writes the SBOM of the image env runs to output ("" for stdout).
func (x *session) sbom(ctx context.Context, envName, output string) error {
	env, err := x.s.environment(envName)
	if err != nil {
		return err
	}
	img, err := x.deployedImage(ctx, env)
	if err != nil {
		return err
	}
	acct, err := x.account(ctx, env)
	if err != nil {
		return err
	}
	if acct.Objects == nil {
		return fmt.Errorf("cannot read SBOMs with environment %s's clients: they have no S3 client", env.Name)
	}
	r := x.s.Org.Registry
	bucket, key := r.SbomBucketName(), x.s.Path.SbomKey(img.digest)
	where := fmt.Sprintf("s3://%s/%s", bucket, key)
	res, err := acct.Objects.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		func(o *s3.Options) { o.Region = r.Region }) // the bucket is the registry's, in its region
	if err != nil {
		return x.sbomError(env, img, bucket, key, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, sbomMaxBytes+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", where, err)
	}
	if len(body) > sbomMaxBytes {
		return fmt.Errorf("%s is larger than %d MiB: not an SBOM ship reads", where, sbomMaxBytes>>20)
	}
	if output == "" {
		_, err := x.out.Write(body)
		return err
	}
	if err := os.WriteFile(output, body, 0o644); err != nil {
		return fmt.Errorf("write the SBOM of %s's image to %s: %w", env.Name, output, err)
	}
	built := ""
	if c := res.Metadata[org.SbomCommitMetadata]; c != "" && c != img.commit {
		// Another commit built the same bytes first; its build stored the SBOM.
		built = fmt.Sprintf(", stored by the build of commit %s", gate.Short(c))
	}
	fmt.Fprintf(x.out, "%s: wrote the SBOM of image %s (commit %s, execution %s) to %s (%d bytes, from %s%s)\n",
		env.Name, img.digest, gate.Short(img.commit), img.run.ID, output, len(body), where, built)
	return nil
}

// deployedImage finds env's deployed run and the digest of its image.
func (x *session) deployedImage(ctx context.Context, env org.Environment) (deployedImage, error) {
	c, err := x.pipelines(ctx, env)
	if err != nil {
		return deployedImage{}, err
	}
	pipeline := x.s.Path.PipelineName(env.Name)
	dep, err := x.newestDeployed(ctx, c, pipeline)
	switch {
	case errors.Is(err, gate.ErrHistoryBound):
		return deployedImage{}, fmt.Errorf("%s: no deployed commit among the %d newest runs of pipeline %s (settings.historyPages bounds the search): %w",
			env.Name, x.s.Path.Settings.HistoryPages*org.HistoryPageSize, pipeline, err)
	case err != nil:
		return deployedImage{}, err
	case dep == nil:
		return deployedImage{}, fmt.Errorf("%s runs nothing yet: pipeline %s has no successful run, so there is no deployed image and no SBOM (ship status %s shows its runs)",
			env.Name, pipeline, env.Name)
	}
	img := deployedImage{run: *dep, source: dep.ID, commit: dep.Commit}
	// A ROLLBACK run redeploys its target's artifacts and re-runs only the rolled-back stage:
	// the image is the one its target resolved.
	if dep.Rollback() && dep.RollbackTarget != "" {
		img.source = dep.RollbackTarget
	}
	stage, action, variable := stageGuard, actionGuard, varGuardDigest
	if x.s.Path.IsFirst(env) {
		stage, action, variable = stageBuild, actionBuild, varBuildDigest
	}
	acts, err := listActions(ctx, c, pipeline, img.source, func(_ context.Context, fn func() error) error { return fn() })
	if err != nil {
		return img, err
	}
	var found *types.ActionExecutionDetail
	for i, a := range acts {
		if aws.ToString(a.StageName) == stage && aws.ToString(a.ActionName) == action && a.Status == types.ActionExecutionStatusSucceeded &&
			(found == nil || aws.ToTime(a.StartTime).After(aws.ToTime(found.StartTime))) {
			found = &acts[i]
		}
	}
	which := fmt.Sprintf("%s runs commit %s (execution %s", env.Name, gate.Short(img.commit), dep.ID)
	if img.source != dep.ID {
		which += ", a rollback to execution " + img.source
	}
	which += ")"
	if found == nil {
		return img, fmt.Errorf("%s, but that execution has no succeeded %s action in stage %s to say which image it resolved, so the image and its SBOM are unknown",
			which, action, stage)
	}
	if found.Output != nil {
		img.digest = found.Output.OutputVariables[variable]
	}
	switch {
	case img.digest == "":
		return img, fmt.Errorf("%s, which has no image: its %s action output no %s, so the path's pipelines build no image "+
			"(they were made without the shared registry) and there is no SBOM", which, action, variable)
	case !imageDigest.MatchString(img.digest):
		return img, fmt.Errorf("%s, whose %s action output %s=%q: not an image digest (sha256: and 64 lowercase hex digits)", which, action, variable, img.digest)
	}
	return img, nil
}

// sbomError explains a failed GetObject of the SBOM: missing, or not allowed, and what then.
func (x *session) sbomError(env org.Environment, img deployedImage, bucket, key string, err error) error {
	r := x.s.Org.Registry
	where := fmt.Sprintf("s3://%s/%s", bucket, key)
	what := fmt.Sprintf("the SBOM of %s's image %s (commit %s)", env.Name, img.digest, gate.Short(img.commit))
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	var api smithy.APIError
	if errors.As(err, &api) && credentialCodes[api.ErrorCode()] {
		return &explained{err: err, msg: fmt.Sprintf("reading %s: AWS rejected the credentials for environment %s (%s: %s); refresh them or pass --profile %s=<profile> / --role %s=<role ARN>",
			what, env.Name, api.ErrorCode(), api.ErrorMessage(), env.Name, env.Name)}
	}
	switch {
	case errors.As(err, &nsk) || errors.As(err, &nf):
		return &explained{err: err, msg: fmt.Sprintf("no SBOM at %s: %s was not stored. The build of commit %s may predate SBOMs "+
			"(builds store one since the pipelines' SBOM step; a new commit's build stores its own), or it failed after the push", where, what, gate.Short(img.commit))}
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket":
		return &explained{err: err, msg: fmt.Sprintf("no SBOM bucket %s in the registry account %s (%s): the registry stack (%s) that creates it is not deployed yet",
			bucket, r.Account, r.Region, org.RegistryStackName)}
	case errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "AccessDeniedException"):
		return &explained{err: err, msg: fmt.Sprintf("access denied reading %s at %s with environment %s's credentials (account %s; %s: %s). "+
			"The identity needs s3:GetObject on arn:aws:s3:::%s/%s* and kms:Decrypt on the registry's SBOM key (%s in account %s, %s), in its own IAM policy "+
			"(the registry's policies already allow account %s). S3 also answers AccessDenied for a key that does not exist to a caller "+
			"who may not list the bucket: an image built before SBOMs ends here too",
			what, where, env.Name, env.Account, api.ErrorCode(), api.ErrorMessage(),
			bucket, x.s.Path.SbomPrefix(), org.SbomKeyAlias, r.Account, r.Region, env.Account)}
	}
	return fmt.Errorf("reading %s at %s with environment %s's credentials: %w", what, where, env.Name, err)
}
