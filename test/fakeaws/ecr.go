package fakeaws

import (
	"fmt"
	"net/http"
	"time"
)

// ImagePushedAt is the imagePushedAt every DescribeImages answer gives.
var ImagePushedAt = time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)

// ecr answers ECR's DescribeImages for one image tag, as the guard asks it.
func (s *Server) ecr(w http.ResponseWriter, c Call) {
	if c.Op != "DescribeImages" {
		writeError(w, http.StatusBadRequest, "InvalidActionException", "fakeaws does not implement "+c.Op)
		return
	}
	repo, _ := c.Input["repositoryName"].(string)
	tag := ""
	if ids, _ := c.Input["imageIds"].([]any); len(ids) == 1 {
		if id, ok := ids[0].(map[string]any); ok {
			tag, _ = id["imageTag"].(string)
		}
	}
	s.mu.Lock()
	exists, digest := s.repos[repo], s.images[repo+":"+tag]
	s.mu.Unlock()
	switch {
	case !exists:
		writeError(w, http.StatusBadRequest, "RepositoryNotFoundException",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%v'", repo, c.Input["registryId"]))
	case digest == "":
		writeError(w, http.StatusBadRequest, "ImageNotFoundException",
			fmt.Sprintf("The image with imageId {imageDigest:'null', imageTag:'%s'} does not exist within the repository with name '%s'", tag, repo))
	default:
		writeJSON(w, map[string]any{"imageDetails": []map[string]any{{
			"registryId": c.Input["registryId"], "repositoryName": repo,
			"imageDigest": digest, "imageTags": []string{tag}, "imagePushedAt": epoch(ImagePushedAt),
		}}})
	}
}
