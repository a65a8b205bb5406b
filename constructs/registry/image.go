package registry

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Image is a container image in a registry, identified by digest: what a deploy pins.
type Image struct {
	// Registry is the registry's account id, Region its region.
	Registry, Region string
	// Repository is the repository name, e.g. payments/checkout.
	Repository string
	// Digest is "sha256:" and 64 lowercase hex digits.
	Digest string
}

// URI is the image's reference by digest, as the pipeline passes it in IMAGE_URI:
// <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>.
func (i Image) URI() string {
	return i.Registry + ".dkr.ecr." + i.Region + ".amazonaws.com/" + i.Repository + "@" + i.Digest
}

// RepositoryURI is the image's repository without the digest.
func (i Image) RepositoryURI() string {
	return i.Registry + ".dkr.ecr." + i.Region + ".amazonaws.com/" + i.Repository
}

// The region group is the project's one region pattern (org.RegionPattern), unanchored and
// with its own groups made non-capturing, so the submatch indexes below stay put.
var imageURI = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.(` +
	strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(org.RegionPattern.String(), "^"), "$"), "(", "(?:") +
	`)\.amazonaws\.com/([a-z0-9]+(?:[._/-][a-z0-9]+)*)@(sha256:[0-9a-f]{64})$`)

// ParseImageURI reads an image reference by digest, such as the IMAGE_URI every step after
// the image build gets. A tag, or a tag with a digest, is refused: a deploy pins bytes.
func ParseImageURI(s string) (Image, error) {
	m := imageURI.FindStringSubmatch(s)
	if m == nil {
		return Image{}, fmt.Errorf("%q: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 lowercase hex digits> (an image by digest, never a tag)", s)
	}
	return Image{Registry: m[1], Region: m[2], Repository: m[3], Digest: m[4]}, nil
}

// ParsePathImageURI is ParseImageURI that also requires the path's repository in registry
// r; its error names that repository, so the reader sees exactly what was expected.
func ParsePathImageURI(s string, r org.Registry, p org.Path) (Image, error) {
	img, err := ParseImageURI(s)
	if err != nil || img.RepositoryURI() != RepositoryURI(r, p) {
		return Image{}, fmt.Errorf("%q: %s@sha256:<64 hex digits>: the path's image in the shared registry, by digest (a tag is never deployed)", s, RepositoryURI(r, p))
	}
	return img, nil
}
