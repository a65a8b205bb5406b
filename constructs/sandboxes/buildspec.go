package sandboxes

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The sandbox project runs one buildspec for both actions; the controller picks one with
// SANDBOX_ACTION when it starts a build, and names the sandbox and its commit:
const (
	VarAction      = "SANDBOX_ACTION"       // ActionDeploy or ActionDestroy
	VarCommitID    = "COMMIT_ID"            // the last pushed commit of the sandbox's branch (full id)
	VarStackSuffix = "SANDBOX_STACK_SUFFIX" // org.SandboxStackSuffix(SANDBOX)
	ActionDeploy   = "deploy"
	ActionDestroy  = "destroy"
)

// The project's own variables, besides ENVIRONMENT, PIPELINE_NAME, TARGET_ACCOUNT and
// TARGET_REGION, which it has as every step of the pipeline has them.
const (
	VarBucket          = "BUCKET"                   // the bucket that keeps each sandbox's cloud assembly
	VarPathID          = "PATH_ID"                  // <team>-<service>, tagged on every sandbox stack
	VarImageRepository = "SANDBOX_IMAGE_REPOSITORY" // the sandbox ECR repository's URI (with an image only)
	VarImageURI        = "IMAGE_URI"                // exported by the image commands: <repository>@sha256:…
	VarImageDigest     = "IMAGE_DIGEST"             // exported by the image commands: sha256:…
)

// CdkCliVersion is the CDK CLI a destroy runs (npx --yes aws-cdk@CdkCliVersion): a destroy
// has no source, so no package.json of the service's, only the assembly its deploy kept. It
// is the version this repository's package.json pins (a test keeps the two equal).
const CdkCliVersion = "2.1148.1"

// AssemblyKey is where, in the bucket, a sandbox's deploy keeps the cloud assembly it
// deployed: what the destroy destroys.
func AssemblyKey(name string) string { return "sandboxes/" + name + "/assembly.zip" }

// assemblyPrefix is the part of the bucket the sandbox project may read and write.
const assemblyPrefix = "sandboxes/"

//go:embed assemblycheck.js
var assemblyCheckScript string

// AssemblyCheckScript is the Node script a sandbox's deploy runs on the synthesized cloud
// assembly before deploying it (node <file> <assembly dir> <suffix>), and its destroy, with
// --names-only, before destroying one: see assemblycheck.js for what it refuses.
func AssemblyCheckScript() string { return assemblyCheckScript }

// The delimiters of the here-documents the commands carry scripts in. No line of a script
// may equal its delimiter (tests check it).
const (
	checkDelimiter   = "SANDBOX_ASSEMBLY_CHECK_SCRIPT"
	nameDelimiter    = "SANDBOX_NAME_CHECK"
	destroyDelimiter = "SANDBOX_DESTROY"
)

// VarCheckScript is the variable WriteCheckCommand leaves the assembly check's file in.
const VarCheckScript = "SANDBOX_ASSEMBLY_CHECK"

// WriteCheckCommand writes the assembly check to a temporary file and exports its path in
// SANDBOX_ASSEMBLY_CHECK: node "$SANDBOX_ASSEMBLY_CHECK" cdk.out "$SANDBOX_STACK_SUFFIX".
var WriteCheckCommand = `export ` + VarCheckScript + `="$(mktemp)" && cat > "$` + VarCheckScript + `" <<'` + checkDelimiter + `'
` + assemblyCheckScript + checkDelimiter

// NameCheckCommand refuses a build whose variables are not what the controller sets: the
// name checked again in bash, letter by letter, as org.SandboxNameProblem checks it (the name
// reaches stack names, tags, S3 keys and shell commands, and this build can deploy into the
// account), SANDBOX_ACTION deploy or destroy, SANDBOX_STACK_SUFFIX the name's suffix, and for
// a deploy a full COMMIT_ID that is the commit CodeBuild checked out. The values are only
// ever compared and printed quoted, never run. It prints every problem, naming the variable,
// its value and what is allowed, and fails.
var NameCheckCommand = "bash -s <<'" + nameDelimiter + "'\n" + nameCheckScript + nameDelimiter

// The letters are spelled out rather than written as ranges: a range such as [a-z] matches
// other characters in some locales.
var nameCheckScript = strings.NewReplacer(
	"@MAX@", fmt.Sprint(org.MaxSandboxName),
	"@ALLOWED@", org.AllowedSandboxName,
	"@PREFIX@", org.SandboxBranchPrefix,
).Replace(`set -u
name="${SANDBOX-}" action="${SANDBOX_ACTION-}" suffix="${SANDBOX_STACK_SUFFIX-}" commit="${COMMIT_ID-}"
problems=0
bad() { printf 'sandbox: %s: %q: %s\n' "$1" "$2" "$3" >&2; problems=$((problems + 1)); }
why=""
case "$name" in
  '') why="the name after @PREFIX@ is empty" ;;
  *[!abcdefghijklmnopqrstuvwxyz0123456789-]*) why="it has a character other than a lowercase letter, a digit or a hyphen" ;;
  [!abcdefghijklmnopqrstuvwxyz]*) why="it does not start with a lowercase letter" ;;
  *--* | *-) why="its hyphens do not each join two runs of letters and digits" ;;
esac
if [ -z "$why" ] && [ "${#name}" -gt @MAX@ ]; then why="${#name} characters is longer than @MAX@"; fi
if [ -n "$why" ]; then bad SANDBOX "$name" "$why; allowed: @ALLOWED@"; fi
case "$action" in
  deploy | destroy) ;;
  *) bad SANDBOX_ACTION "$action" "deploy or destroy" ;;
esac
if [ -z "$why" ] && [ "$suffix" != "-sandbox-$name" ]; then bad SANDBOX_STACK_SUFFIX "$suffix" "-sandbox-$name, the suffix of sandbox $name"; fi
if [ "$action" = deploy ]; then
  case "$commit" in
    *[!0123456789abcdef]*) bad COMMIT_ID "$commit" "a full commit id: 40 lowercase hexadecimal digits" ;;
    *) if [ "${#commit}" -ne 40 ]; then bad COMMIT_ID "$commit" "a full commit id: 40 lowercase hexadecimal digits"
       elif [ -n "${CODEBUILD_RESOLVED_SOURCE_VERSION-}" ] && [ "$commit" != "$CODEBUILD_RESOLVED_SOURCE_VERSION" ]; then
         bad COMMIT_ID "$commit" "the commit this build checked out, $CODEBUILD_RESOLVED_SOURCE_VERSION"
       fi ;;
  esac
fi
if [ "$problems" -gt 0 ]; then
  echo "sandbox: refused: $problems problem(s) with the variables the sandbox controller sets; nothing was built, deployed or destroyed." >&2
  exit 1
fi
echo "sandbox $name: $action"
`)

// destroyScript destroys one sandbox: the assembly its last deploy kept, if there is one
// (none: nothing of it was ever deployed, and the destroy succeeds), its stack names checked
// again, destroyed with the pinned CDK CLI through the account's CDK bootstrap roles, and the
// assembly deleted last, so a destroy that failed can run again. Every failure fails it.
//
// Whether the assembly exists is asked with a listing of exactly its key (s3:ListBucket on
// the sandboxes/ prefix): without that permission S3 answers a missing object with 403, which
// cannot be told from a real refusal.
var destroyScript = strings.NewReplacer("@CLI@", CdkCliVersion).Replace(`set -euo pipefail
key="sandboxes/$SANDBOX/assembly.zip"
listed="$(aws s3api list-objects-v2 --bucket "$BUCKET" --prefix "$key" --query 'Contents[].Key' --output text)"
if ! printf '%s\n' "$listed" | tr '\t' '\n' | grep -Fxq -- "$key"; then
  echo "sandbox $SANDBOX: no assembly at s3://$BUCKET/$key: nothing of it was deployed, so there is nothing to destroy."
  exit 0
fi
work="$(mktemp -d)"
aws s3 cp "s3://$BUCKET/$key" "$work/assembly.zip" --only-show-errors
mkdir "$work/cdk.out"
unzip -q "$work/assembly.zip" -d "$work/cdk.out"
node "$SANDBOX_ASSEMBLY_CHECK" "$work/cdk.out" "$SANDBOX_STACK_SUFFIX" --names-only
cd "$work"
npx --yes aws-cdk@@CLI@ destroy --app cdk.out --all --force
aws s3 rm "s3://$BUCKET/$key" --only-show-errors
echo "sandbox $SANDBOX destroyed: every stack of its last deploy is deleted, and s3://$BUCKET/$key with them."
`)

// DestroyCommand runs destroyScript (SANDBOX_ASSEMBLY_CHECK must name the check's file).
var DestroyCommand = "bash -s <<'" + destroyDelimiter + "'\n" + destroyScript + destroyDelimiter

// Commands are what a sandbox's build runs besides the controller's variables: the
// pipeline's, passed in by whoever creates the construct (envpipeline), since this package
// does not know how a path builds.
type Commands struct {
	// SecretsScan scans the commit's files for secrets, as the pipeline's SecretsScan step
	// does, before anything runs them. Required.
	SecretsScan []string
	// Build builds and tests, as the pipeline's Build step. Default: - nothing is built
	// besides the image.
	Build []string
	// Image builds the image tagged "$IMAGE_TAGGED" (the path's image commands). Required
	// with a registry.
	Image []string
}

// buildCommands is the build phase of the sandbox buildspec: the checks, then the deploy's
// commands or the destroy's, each guarded by SANDBOX_ACTION (a buildspec has no branches,
// and CodeBuild runs a phase's commands one by one in one shell, so exported variables carry
// from one to the next). With image set, the deploy pushes the image to the sandbox
// repository first.
func buildCommands(c Commands, image bool) []string {
	cmds := []string{NameCheckCommand, WriteCheckCommand}
	deploy := append([]string(nil), c.SecretsScan...)
	deploy = append(deploy, c.Build...)
	if image {
		deploy = append(deploy, imageCommands(c.Image)...)
	}
	deploy = append(deploy,
		"npm ci",
		`rm -rf cdk.out && npx cdk synth --quiet --context "sandbox=$SANDBOX" -o cdk.out`,
		`node "$`+VarCheckScript+`" cdk.out "$SANDBOX_STACK_SUFFIX"`,
		// Kept before the deploy: a deploy that fails halfway has created stacks, and the
		// destroy finds them only through this assembly.
		`sandbox_zip="$(mktemp -d)/assembly.zip" && (cd cdk.out && zip -qr "$sandbox_zip" . -x 'asset.*' '*/asset.*') && `+
			`aws s3 cp "$sandbox_zip" "s3://$BUCKET/sandboxes/$SANDBOX/assembly.zip" --only-show-errors`,
		`npx cdk deploy --app cdk.out --all --require-approval never --ci --tags "pathtoprod:sandbox=$SANDBOX" --tags "pathtoprod:path=$PATH_ID"`,
	)
	for _, cmd := range deploy {
		cmds = append(cmds, when(ActionDeploy, cmd))
	}
	return append(cmds, when(ActionDestroy, DestroyCommand))
}

// imageCommands build the sandbox's image once per commit and name, push it to the sandbox
// repository (never the shared registry: nothing there can be promoted), and export its
// digest, as the pipeline's Build step does with the path's repository. The tag is
// <name>-<commit>; tags are immutable, so a retried build reuses the image it pushed.
func imageCommands(image []string) []string {
	describe := `aws ecr describe-images --region "$TARGET_REGION" --repository-name "${SANDBOX_IMAGE_REPOSITORY#*/}" --image-ids imageTag="$SANDBOX-$COMMIT_ID"`
	return []string{
		`export IMAGE_TAGGED="$SANDBOX_IMAGE_REPOSITORY:$SANDBOX-$COMMIT_ID"`,
		`aws ecr get-login-password --region "$TARGET_REGION" | docker login --username AWS --password-stdin "${SANDBOX_IMAGE_REPOSITORY%%/*}"`,
		`if ` + describe + ` >/dev/null 2>&1; then echo "image $IMAGE_TAGGED already pushed: not rebuilt"; else ` +
			strings.Join(image, " && ") + ` && docker push "$IMAGE_TAGGED"; fi`,
		`IMAGE_DIGEST="$(` + describe + ` --query 'imageDetails[0].imageDigest' --output text)" && [ "${IMAGE_DIGEST#sha256:}" != "$IMAGE_DIGEST" ] && ` +
			`export IMAGE_DIGEST && export IMAGE_URI="$SANDBOX_IMAGE_REPOSITORY@$IMAGE_DIGEST"`,
		`echo "sandbox image: $IMAGE_URI"`,
	}
}

// when runs cmd only when the build's action is action.
func when(action, cmd string) string {
	return `if [ "$SANDBOX_ACTION" = ` + action + ` ]; then` + "\n" + cmd + "\nfi"
}

// buildSpec is the sandbox project's buildspec.
func buildSpec(c Commands, image bool) map[string]interface{} {
	return map[string]interface{}{
		"version": "0.2",
		"env":     map[string]interface{}{"shell": "bash"},
		"phases":  map[string]interface{}{"build": map[string]interface{}{"commands": buildCommands(c, image)}},
	}
}
