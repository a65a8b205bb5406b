package envpipeline

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/guard"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
)

// BuildNamespace is the variables namespace of the build step: #{Build.IMAGE_URI}.
const BuildNamespace = "Build"

// buildStep is the first environment's build and test, and, with a registry, the only image
// build of the path: build, tag with the full commit id, push, export the digest, and store
// the image's SBOM (sbom.go).
func (p *envPipeline) buildStep(role awsiam.Role) step {
	st := step{name: StageBuild, commands: p.s.build, role: role}
	if p.s.Registry == nil {
		return st
	}
	r, path := *p.s.Registry, p.s.Path
	registry.GrantPush(role, registry.RepositoryARN(r, path))
	registry.GrantSbomWrite(role, r, path)
	st.privileged = true // the image build needs a Docker daemon; only this step gets one
	st.namespace = BuildNamespace
	st.exported = []string{VarImageURI, VarImageDigest}
	st.vars = map[string]*awscodebuild.BuildEnvironmentVariable{
		"IMAGE_REPOSITORY_URI": {Value: jsii.String(registry.RepositoryURI(r, path))},
		"IMAGE_REPOSITORY":     {Value: jsii.String(path.ImageRepositoryName())},
		"REGISTRY_ACCOUNT":     {Value: jsii.String(r.Account)},
		"REGISTRY_REGION":      {Value: jsii.String(r.Region)},
		VarSbomBucket:          {Value: jsii.String(r.SbomBucketName())},
	}
	describe := `aws ecr describe-images --registry-id "$REGISTRY_ACCOUNT" --region "$REGISTRY_REGION" --repository-name "$IMAGE_REPOSITORY" --image-ids imageTag="$COMMIT_ID"`
	st.commands = append(append(append([]string{}, SbomInstallCommands...), p.s.build...),
		`export IMAGE_TAGGED="$IMAGE_REPOSITORY_URI:$COMMIT_ID"`,
		`aws ecr get-login-password --region "$REGISTRY_REGION" | docker login --username AWS --password-stdin "${IMAGE_REPOSITORY_URI%%/*}"`,
		// Tags are immutable, so a retried run of a commit already pushed reuses its image
		// instead of failing on the push: still one build per commit.
		`if `+describe+` >/dev/null 2>&1; then echo "image $IMAGE_TAGGED already in the registry: not rebuilt"; else `+
			strings.Join(p.s.image, " && ")+` && docker push "$IMAGE_TAGGED"; fi`,
		`export IMAGE_DIGEST="$(`+describe+` --query 'imageDetails[0].imageDigest' --output text)"`,
		`export IMAGE_URI="$IMAGE_REPOSITORY_URI@$IMAGE_DIGEST"`,
		`echo "built once: $IMAGE_URI"`,
	)
	st.commands = append(st.commands, SbomCommands...)
	return st
}

// deployStep deploys the service's stacks; with a registry it pins the promoted digest.
func (p *envPipeline) deployStep(role awsiam.Role) step {
	if p.s.Registry != nil {
		registry.GrantPull(role, registry.RepositoryARN(*p.s.Registry, p.s.Path))
	}
	return step{name: StageDeploy, commands: p.s.deploy, role: role, actionVars: p.imageVariables()}
}

// imageVariables are the promoted image's coordinates for every step after the build:
// exported by the build in the first environment, by the guard everywhere else.
func (p *envPipeline) imageVariables() map[string]string {
	ns, uri, digest := BuildNamespace, VarImageURI, VarImageDigest
	switch p.imageProducer() {
	case "":
		return nil
	case StageGuard:
		ns, uri, digest = guard.Namespace, "ImageUri", "ImageDigest"
	}
	return map[string]string{
		VarImageURI:    "#{" + ns + "." + uri + "}",
		VarImageDigest: "#{" + ns + "." + digest + "}",
	}
}

// imageProducer is the stage whose output variables carry the image, or "" without a registry.
func (p *envPipeline) imageProducer() string {
	switch {
	case p.s.Registry == nil:
		return ""
	case p.guard != nil:
		return StageGuard
	default:
		return StageBuild
	}
}

// imageCheck is what the guard must find in the registry, or nil without a registry.
func (p *envPipeline) imageCheck() *guard.ImageCheck {
	if p.s.Registry == nil {
		return nil
	}
	return &guard.ImageCheck{
		RegistryAccount:  p.s.Registry.Account,
		Region:           p.s.Registry.Region,
		RepositoryName:   p.s.Path.ImageRepositoryName(),
		Refuse:           p.s.env.VulnerabilityThreshold(),
		Unscanned:        p.s.env.UnscannedImages(),
		EnhancedScanning: p.s.Registry.Scanning == org.ScanningEnhanced,
	}
}
