// Package gitcat reads objects of a git repository by id, many in one git process:
//
//	objs, err := gitcat.Read(ctx, "/path/to/clone", []string{id1, id2})
//	if c, ok := objs[id1]; ok && c.Type == "commit" {
//		t, _ := gitcat.CommitterDate(c.Body)
//	}
//
// It runs `git cat-file --batch`, which answers "missing" for an id the repository lacks
// instead of failing as git show or git log would. ship reads commit times from a clone
// with it, and test/fakeaws answers CodeCommit's BatchGetCommits from real repositories.
// No jsii, no AWS.
package gitcat

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// Object is one object git found.
type Object struct {
	// Type is git's: commit, tree, blob or tag.
	Type string
	// Body is the object's raw content.
	Body []byte
}

// Error is a git cat-file that failed to run; Stderr is git's explanation.
type Error struct {
	Dir    string
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git cat-file --batch in %s: %s", e.Dir, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Read asks git in dir for the objects ids, in one process. An id the repository does not
// have is absent from the answer. ids are passed to git as lines, so the caller checks that
// each is an object id (a line such as "HEAD" would be read as a revision).
func Read(ctx context.Context, dir string, ids []string) (map[string]Object, error) {
	out := map[string]Object{}
	if len(ids) == 0 {
		return out, nil
	}
	cmd := exec.CommandContext(ctx, "git", "cat-file", "--batch")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A killed git may leave a helper holding the pipes open; don't wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("git cat-file --batch in %s: %w", dir, ctx.Err())
		}
		return nil, &Error{Dir: dir, Stderr: stderr.String(), Err: err}
	}
	r := bufio.NewReader(&stdout)
	for _, id := range ids {
		header, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git cat-file --batch in %s: no answer for %s", dir, id)
		}
		f := strings.Fields(header) // "<id> <type> <size>" or "<id> missing"
		if len(f) == 2 && f[1] == "missing" {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("git cat-file --batch in %s: unexpected header %q", dir, strings.TrimSpace(header))
		}
		size, err := strconv.Atoi(f[2])
		if err != nil || size < 0 {
			return nil, fmt.Errorf("git cat-file --batch in %s: header %q", dir, strings.TrimSpace(header))
		}
		body := make([]byte, size+1) // and the newline after it
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, fmt.Errorf("git cat-file --batch in %s: object %s: %v", dir, id, err)
		}
		out[id] = Object{Type: f[1], Body: body[:size]}
	}
	return out, nil
}

// CommitterDate is the committer date of a commit object's body (its "committer <name>
// <email> <seconds> <zone>" header).
func CommitterDate(body []byte) (time.Time, bool) {
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" {
			break // end of the headers
		}
		if rest, ok := strings.CutPrefix(line, "committer "); ok {
			// The name may hold anything but '>': the date follows the last one.
			if i := strings.LastIndexByte(rest, '>'); i >= 0 {
				if t, err := dora.ParseGitDate(rest[i+1:]); err == nil {
					return t, true
				}
			}
			return time.Time{}, false
		}
	}
	return time.Time{}, false
}
