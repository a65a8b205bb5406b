package envpipeline

import "github.com/platform-eng/pathtoprod/constructs/org"

// With a registry, the first environment's build also stores the software bill of materials
// (SBOM) of the image it pushed, in the registry account (registry.newSbomStore):
//
//	s3://<org.Registry.SbomBucketName>/<team>/<service>/<image digest>.spdx.json
//
// with the object metadata commit=<full commit id>. From a commit to its SBOM: the image's
// tag is the commit (ECR: tag → digest), the key is the digest; the build also exports
// IMAGE_DIGEST, and ship sbom <env> reads the SBOM of what an environment runs. The SBOM is
// made from the registry (syft's registry: source, by digest), so it describes exactly the
// bytes pushed, whoever built them; a retried run of a commit whose SBOM is stored skips it,
// as it skips the image.

// The pinned syft: the module, the command the build installs, and its version.
const (
	SyftModule  = "github.com/anchore/syft"
	SyftPackage = SyftModule + "/cmd/syft"
	SyftVersion = "v1.33.0"
)

// VarSbomBucket is the build's environment variable naming the registry's SBOM bucket.
const VarSbomBucket = "SBOM_BUCKET"

// SbomInstallCommands install the pinned syft into a directory of its own (see goInstall).
// They run first in the build, before the service's own commands: the commit's code runs in
// the same container after them, and must not get a say in how the tool is fetched (a `go env
// -w` of its Makefile would change GOPROXY or GONOSUMDB for every later go command).
var SbomInstallCommands = []string{
	`export SBOM_TOOLS="$(mktemp -d)"`,
	goInstall("$SBOM_TOOLS", SyftPackage, SyftVersion, ""),
}

// SbomCommands run after the push, once IMAGE_URI (by digest) and IMAGE_DIGEST are exported:
// unless the bucket has the digest's SBOM already, syft reads the pushed image from the
// registry (docker login has written the credentials it uses) and the SBOM is stored with
// the commit in its metadata. A failure fails the build, so no image is promoted without
// its SBOM. The key is org.Path.SbomKey of the digest.
var SbomCommands = []string{
	`export SBOM_KEY="$IMAGE_REPOSITORY/$IMAGE_DIGEST` + org.SbomKeySuffix + `"`,
	`if aws s3api head-object --bucket "$` + VarSbomBucket + `" --key "$SBOM_KEY" --region "$REGISTRY_REGION" >/dev/null 2>&1; then ` +
		`echo "SBOM of $IMAGE_URI already stored: s3://$` + VarSbomBucket + `/$SBOM_KEY (not regenerated)"; else ` +
		`SYFT_CHECK_FOR_APP_UPDATE=false "$SBOM_TOOLS/syft" scan "registry:$IMAGE_URI" -o "` + org.SbomFormat + `=$SBOM_TOOLS/sbom` + org.SbomKeySuffix + `" && ` +
		`aws s3api put-object --bucket "$` + VarSbomBucket + `" --key "$SBOM_KEY" --body "$SBOM_TOOLS/sbom` + org.SbomKeySuffix + `" ` +
		`--content-type application/spdx+json --metadata "` + org.SbomCommitMetadata + `=$COMMIT_ID" --region "$REGISTRY_REGION" >/dev/null && ` +
		`echo "SBOM of $IMAGE_URI stored: s3://$` + VarSbomBucket + `/$SBOM_KEY"; fi`,
}
