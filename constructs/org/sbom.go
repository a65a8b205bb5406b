package org

// The software bill of materials (SBOM) of every image the first environment builds is kept
// in the registry account, next to the image, in one S3 bucket whose name, key layout and
// encryption key alias every account can derive: the build that writes an SBOM, the
// registry stack that creates the bucket, and the ship CLI that reads one (ship sbom) agree
// without looking anything up.
//
// From a commit to its SBOM: the image is tagged with the full commit id (ECR tag → digest),
// and the SBOM's key is the repository and the digest:
//
//	key := path.SbomKey("sha256:0123…")   // payments/checkout/sha256:0123….spdx.json
//	bucket := o.Registry.SbomBucketName() // pathtoprod-sbom-111111111111-eu-west-1

// SbomKeyAlias is the alias of the registry's customer-managed KMS key that encrypts the SBOM
// bucket. The build roles' own policies name the key by this alias (kms:ResourceAliases),
// since the key's id is random and only known in the registry account.
const SbomKeyAlias = "alias/pathtoprod-sbom"

// SbomFormat is the SBOM's format, SPDX 2.3 as JSON, and SbomKeySuffix the key's extension.
const (
	SbomFormat    = "spdx-json"
	SbomKeySuffix = ".spdx.json"
)

// SbomCommitMetadata is the user-defined object metadata (x-amz-meta-commit) that records the
// full id of the commit whose build produced the SBOM.
const SbomCommitMetadata = "commit"

// SbomBucketName is the registry account's bucket of SBOMs: pathtoprod-sbom-<account>-<region>.
// Account and region make it unique among every organisation's buckets (S3 bucket names are
// global); with a 12-digit account it is 29 characters plus the region's, within S3's 63 for
// every region name up to 34 characters (the longest today has 14).
func (r Registry) SbomBucketName() string {
	return "pathtoprod-sbom-" + r.Account + "-" + r.Region
}

// SbomBucketARN is the ARN of SbomBucketName, in the standard partition.
func (r Registry) SbomBucketARN() string { return "arn:aws:s3:::" + r.SbomBucketName() }

// SbomPrefix is the part of the SBOM bucket that holds the path's SBOMs: its ECR repository's
// name and a slash, e.g. payments/checkout/. Each path's build may write only there.
func (p Path) SbomPrefix() string { return p.ImageRepositoryName() + "/" }

// SbomKey is the key of the SBOM of the path's image with digest ("sha256:" and 64 hex
// digits): <repository>/<digest>.spdx.json.
func (p Path) SbomKey(digest string) string { return p.SbomPrefix() + digest + SbomKeySuffix }
