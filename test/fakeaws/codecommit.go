package fakeaws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/platform-eng/pathtoprod/constructs/gitcat"
)

// codeCommitService is the X-Amz-Target prefix of CodeCommit's JSON 1.1 protocol.
const codeCommitService = "CodeCommit_20150413"

// batchGetCommitsMax is BatchGetCommits' limit of commit ids per call.
const batchGetCommitsMax = 100

// The errorCode of a BatchGetCommits error entry. CodeCommit documents the field ("whether
// the commit ID was not valid or not found"), not its values; the fake uses the names of
// CodeCommit's own exceptions for those two cases.
const (
	CommitNotFoundCode = "CommitIdDoesNotExistException"
	CommitInvalidCode  = "InvalidCommitIdException"
)

var fullCommitID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// SetRepository makes the CodeCommit repository name exist in account, with the commits of
// the git repository gitDir (typically bare): BatchGetCommits reads them with the git
// binary, so commit ids, parents, messages and committer dates are real ones. The account
// of a call is its signer's, as GetCallerIdentity says (SetAccount, or an assumed role's).
// Every environment of a path has a repository of the same name in its own account, so
// the account is part of the key. A later SetRepository of the same pair replaces it.
func (s *Server) SetRepository(account, name, gitDir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gitRepos == nil {
		s.gitRepos = map[string]string{}
	}
	s.gitRepos[account+"/"+name] = gitDir
	delete(s.commitsOf, gitDir)
}

// codeCommit answers CodeCommit's BatchGetCommits (JSON 1.1).
func (s *Server) codeCommit(ctx context.Context, w http.ResponseWriter, c Call, body []byte) {
	var in struct {
		RepositoryName string   `json:"repositoryName"`
		CommitIDs      []string `json:"commitIds"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	rejected := s.reject != "" && c.AccessKey == s.reject
	account := s.accountOf(c.AccessKey, c.SessionToken)
	dir, known := s.gitRepos[account+"/"+in.RepositoryName]
	s.mu.Unlock()
	switch {
	case rejected:
		writeError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	case c.Op != "BatchGetCommits":
		writeError(w, http.StatusBadRequest, "InvalidActionException", "fakeaws does not implement CodeCommit's "+c.Op)
		return
	case in.RepositoryName == "":
		writeError(w, http.StatusBadRequest, "RepositoryNameRequiredException", "A repository name is required, but was not specified.")
		return
	case len(in.CommitIDs) == 0:
		writeError(w, http.StatusBadRequest, "CommitIdsListRequiredException", "A list of commit IDs is required, but was either not specified or the list was empty.")
		return
	case len(in.CommitIDs) > batchGetCommitsMax:
		writeError(w, http.StatusBadRequest, "CommitIdsLimitExceededException",
			fmt.Sprintf("The maximum number of allowed commit IDs in a batch request is %d; %d were given.", batchGetCommitsMax, len(in.CommitIDs)))
		return
	case !known:
		writeError(w, http.StatusBadRequest, "RepositoryDoesNotExistException", in.RepositoryName+" does not exist")
		return
	}
	commits, errs, err := s.readCommits(ctx, dir, in.CommitIDs)
	if err != nil {
		// Not an API error: the repository behind the fake is broken (deleted, git missing).
		writeError(w, http.StatusInternalServerError, "InternalFailure", "fakeaws: "+err.Error())
		return
	}
	writeJSON(w, map[string]any{"commits": commits, "errors": errs})
}

// readCommits reads the commits ids names from the git repository dir, as BatchGetCommits
// answers: a Commit for each commit found, an error entry for each id that is not a full
// commit id or not in the repository. A commit's id is the hash of its content, so what
// git said of it once stays true: the fake keeps it, and asks git (one
// `git cat-file --batch` a call) only for the ids it has not seen in dir.
func (s *Server) readCommits(ctx context.Context, dir string, ids []string) (commits, errs []map[string]any, err error) {
	commits, errs = []map[string]any{}, []map[string]any{}
	var ask []string
	// The inner map is written by concurrent calls too: it is read under the lock only.
	s.mu.Lock()
	for _, id := range ids {
		switch {
		case !fullCommitID.MatchString(id):
			errs = append(errs, map[string]any{"commitId": id, "errorCode": CommitInvalidCode,
				"errorMessage": "The specified commit ID is not valid: a full 40-character commit id is required"})
		case s.commitsOf[dir][id] == nil:
			ask = append(ask, id)
		}
	}
	s.mu.Unlock()
	read, readErrs, err := catFile(ctx, dir, ask)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	if s.commitsOf == nil {
		s.commitsOf = map[string]map[string]map[string]any{}
	}
	if s.commitsOf[dir] == nil {
		s.commitsOf[dir] = map[string]map[string]any{}
	}
	for _, c := range read {
		s.commitsOf[dir][c["commitId"].(string)] = c
	}
	for _, id := range ids {
		if c := s.commitsOf[dir][id]; c != nil {
			commits = append(commits, c)
		}
	}
	s.mu.Unlock()
	return commits, append(errs, readErrs...), nil
}

// catFile reads the commits ids from dir in one `git cat-file --batch` (package gitcat).
func catFile(ctx context.Context, dir string, ask []string) (commits, errs []map[string]any, err error) {
	objs, err := gitcat.Read(ctx, dir, ask)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ask {
		o, found := objs[id]
		switch {
		case !found:
			errs = append(errs, map[string]any{"commitId": id, "errorCode": CommitNotFoundCode,
				"errorMessage": "The specified commit does not exist in the repository"})
		case o.Type != "commit":
			errs = append(errs, map[string]any{"commitId": id, "errorCode": CommitInvalidCode,
				"errorMessage": "The specified object is a " + o.Type + ", not a commit"})
		default:
			commits = append(commits, parseCommit(id, string(o.Body)))
		}
	}
	return commits, errs, nil
}

// parseCommit is a raw git commit object as CodeCommit's Commit shape: the dates as git
// stores them, "<seconds since 1970> <zone>".
func parseCommit(id, raw string) map[string]any {
	head, message, _ := strings.Cut(raw, "\n\n")
	c := map[string]any{"commitId": id, "message": message, "parents": []string{}, "additionalData": ""}
	var parents []string
	for _, line := range strings.Split(head, "\n") {
		key, value, _ := strings.Cut(line, " ")
		switch key {
		case "tree":
			c["treeId"] = value
		case "parent":
			parents = append(parents, value)
		case "author", "committer":
			c[key] = userInfo(value)
		}
	}
	if parents != nil {
		c["parents"] = parents
	}
	return c
}

// userInfo reads "Name <email> 1484167798 -0800".
func userInfo(v string) map[string]any {
	name, rest, _ := strings.Cut(v, " <")
	email, date, _ := strings.Cut(rest, "> ")
	return map[string]any{"name": name, "email": email, "date": strings.TrimSpace(date)}
}
