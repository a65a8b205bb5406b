package state_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

const (
	account = "222222222222"
	table   = "payments-checkout-dev-sandboxes"
)

// newTable serves a fake with the empty table and returns it and the real SDK client.
func newTable(t *testing.T) (*fakeaws.Server, *dynamodb.Client) {
	t.Helper()
	fake := fakeaws.New()
	fake.SetAccount("AKIDDEV", account)
	fake.SetTable(account, table)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, dynamodb.New(dynamodb.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDDEV", "s", ""), Retryer: aws.NopRetryer{}})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestStatusCountsWhatMayHaveStacks(t *testing.T) {
	want := map[state.Status]bool{
		state.StatusDeploying: true, state.StatusLive: true, state.StatusFailed: true,
		state.StatusDestroying: true, state.StatusDestroyFailed: true,
		state.StatusExpired: false, state.StatusRefused: false,
	}
	if len(want) != len(state.Statuses) {
		t.Fatalf("%d statuses, the test knows %d", len(state.Statuses), len(want))
	}
	for _, s := range state.Statuses {
		if s.Counts() != want[s] {
			t.Errorf("%s.Counts() = %v, want %v", s, s.Counts(), want[s])
		}
	}
	set := state.Set{}
	for _, s := range state.Statuses {
		set.Add(state.Sandbox{Name: string(s), Status: s})
	}
	if set.Counted() != 5 || len(set.CountedNames()) != 5 {
		t.Errorf("Counted() = %d, %v, want 5", set.Counted(), set.CountedNames())
	}
}

func TestFindAddRemove(t *testing.T) {
	var set state.Set
	set.Add(state.Sandbox{Name: "alice", Status: state.StatusLive})
	set.Add(state.Sandbox{Name: "bob", Status: state.StatusLive})
	set.Add(state.Sandbox{Name: "alice", Status: state.StatusFailed}) // replaces
	sb, ok := set.Find("alice")
	if !ok || sb.Status != state.StatusFailed || len(set.Sandboxes) != 2 {
		t.Fatalf("after Add: %v", set)
	}
	sb.Status = state.StatusDestroying // in place
	if got, _ := set.Find("alice"); got.Status != state.StatusDestroying {
		t.Errorf("Find does not give the sandbox itself: %v", set)
	}
	clone := set.Clone()
	clone.Sandboxes[0].Status = state.StatusLive
	if set.Sandboxes[0].Status != state.StatusDestroying {
		t.Error("Clone shares the sandboxes")
	}
	if !set.Remove("alice") || set.Remove("alice") || len(set.Sandboxes) != 1 {
		t.Errorf("Remove: %v", set)
	}
	if _, ok := set.Find("alice"); ok {
		t.Error("found a removed sandbox")
	}
}

// TestReadAndUpdateRoundTrip: nothing written reads as version 0; each write increments the
// version and stores every field as JSON in the one item; Read gives back what was written.
func TestReadAndUpdateRoundTrip(t *testing.T) {
	fake, db := newTable(t)
	set, err := state.Read(ctx(t), db, table)
	if err != nil || set.Version != 0 || len(set.Sandboxes) != 0 {
		t.Fatalf("Read of an empty table: %v, %v", set, err)
	}
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	alice := state.Sandbox{Name: "alice", Branch: "sandbox/alice", Commit: strings.Repeat("a", 40),
		Owner: "arn:aws:sts::222222222222:assumed-role/Dev/alice", Created: at, Pushed: at.Add(time.Hour),
		Status: state.StatusDeploying, Build: "payments-checkout-dev-sandbox:1", Action: state.ActionDeploy,
		Event: "ev-1", Requested: at.Add(time.Hour)}
	for i, change := range []func(*state.Set) error{
		func(s *state.Set) error { s.Add(alice); return nil },
		func(s *state.Set) error { sb, _ := s.Find("alice"); sb.Status = state.StatusLive; return nil },
	} {
		written, err := state.Update(ctx(t), db, table, change)
		if err != nil || written.Version != int64(i+1) {
			t.Fatalf("write %d: %v, %v", i+1, written, err)
		}
	}
	// The first write says the item must not exist, every later one names the version read.
	var conditions []string
	for _, c := range fake.Recorded() {
		if c.Op == "PutItem" {
			conditions = append(conditions, fmt.Sprintln(c.Input["ConditionExpression"], c.Input["ExpressionAttributeValues"]))
		} else if c.Op == "GetItem" && c.Input["ConsistentRead"] != true {
			t.Errorf("GetItem without ConsistentRead: %v", c.Input)
		}
	}
	if want := []string{"attribute_not_exists(id) <nil>\n", "version = :v map[:v:map[N:1]]\n"}; fmt.Sprint(conditions) != fmt.Sprint(want) {
		t.Errorf("conditions %q, want %q", conditions, want)
	}
	got, err := state.Read(ctx(t), db, table)
	alice.Status = state.StatusLive
	if err != nil || got.Version != 2 || len(got.Sandboxes) != 1 || got.Sandboxes[0] != alice {
		t.Errorf("Read = %+v, %v\nwant %+v", got, err, alice)
	}
	raw, _ := fake.Item(account, table, "sandboxes")
	js := raw["sandboxes"].(map[string]any)["S"].(string)
	if !strings.Contains(js, `"owner":"arn:aws:sts::222222222222:assumed-role/Dev/alice"`) || strings.Contains(js, `"warned"`) {
		t.Errorf("stored JSON %s: want lowerCamel fields, and no zero warned", js)
	}
}

// TestUpdateWritesNothingWhenTheChangeRefuses: a change's error is returned as it is, with
// the set read, and no PutItem is sent.
func TestUpdateWritesNothingWhenTheChangeRefuses(t *testing.T) {
	fake, db := newTable(t)
	refuse := errors.New("full")
	read, err := state.Update(ctx(t), db, table, func(s *state.Set) error {
		s.Add(state.Sandbox{Name: "alice"})
		return refuse
	})
	if err != refuse || read.Version != 0 || len(read.Sandboxes) != 0 {
		t.Errorf("Update = %v, %v; want the error as it is and the set read", read, err)
	}
	if ops := fake.Ops(); fmt.Sprint(ops) != "[GetItem]" {
		t.Errorf("calls %v, want only the read", ops)
	}
}

// TestConcurrentUpdatesLoseNoWrite: writers racing on the one item each land their change
// exactly once; none is overwritten by another that read before it. Run with -race.
func TestConcurrentUpdatesLoseNoWrite(t *testing.T) {
	fake, db := newTable(t)
	const writers = state.MaxAttempts // a writer loses only to one that won: all must land
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := state.Update(ctx(t), db, table, func(s *state.Set) error {
				s.Add(state.Sandbox{Name: fmt.Sprintf("s%d", i), Status: state.StatusLive})
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	set, err := state.Read(ctx(t), db, table)
	if err != nil || set.Version != writers || len(set.Sandboxes) != writers {
		t.Fatalf("after %d concurrent writers: %v, %v", writers, set, err)
	}
	lost := 0
	for _, c := range fake.Recorded() {
		if c.Op == "PutItem" {
			lost++
		}
	}
	t.Logf("%d writes for %d changes", lost, writers)
}

// TestConcurrentUpdatesKeepTheCap: however the writers interleave, a change that checks the
// cap against what it read admits exactly cap of them.
func TestConcurrentUpdatesKeepTheCap(t *testing.T) {
	_, db := newTable(t)
	const writers, limit = 8, 3
	full := errors.New("full")
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted, refused := 0, 0
	for i := range writers {
		wg.Go(func() {
			_, err := state.Update(ctx(t), db, table, func(s *state.Set) error {
				if s.Counted() >= limit {
					return full
				}
				s.Add(state.Sandbox{Name: fmt.Sprintf("s%d", i), Status: state.StatusDeploying})
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			switch err {
			case nil:
				admitted++
			case full:
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	set, err := state.Read(ctx(t), db, table)
	if err != nil || admitted != limit || refused != writers-limit || set.Counted() != limit {
		t.Errorf("admitted %d, refused %d, stored %v (%v); want %d admitted", admitted, refused, set, err, limit)
	}
}

// TestUpdateGivesUpAfterMaxAttempts: a writer that always loses stops after MaxAttempts
// writes and says so, naming the table.
func TestUpdateGivesUpAfterMaxAttempts(t *testing.T) {
	fake, db := newTable(t)
	fake.Fail("PutItem", fakeaws.Fault{Status: 400, Code: "ConditionalCheckFailedException", Message: "The conditional request failed"}, -1)
	_, err := state.Update(ctx(t), db, table, func(s *state.Set) error { s.Add(state.Sandbox{Name: "a"}); return nil })
	if !errors.Is(err, state.ErrContention) || !strings.Contains(err.Error(), table) {
		t.Errorf("err = %v, want ErrContention naming %s", err, table)
	}
	puts := 0
	for _, op := range fake.Ops() {
		if op == "PutItem" {
			puts++
		}
	}
	if puts != state.MaxAttempts {
		t.Errorf("%d writes, want %d", puts, state.MaxAttempts)
	}
}

// TestErrorsNameTheTableAndWhatFailed: an unknown table, another fault of the write, and a
// malformed item each say which table, and what is wrong.
func TestErrorsNameTheTableAndWhatFailed(t *testing.T) {
	fake, db := newTable(t)
	if _, err := state.Read(ctx(t), db, "nope"); err == nil || !strings.Contains(err.Error(), "table nope") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("unknown table: %v", err)
	}
	fake.Fail("PutItem", fakeaws.Fault{Status: 400, Code: "AccessDeniedException", Message: "not allowed"}, 1)
	if _, err := state.Update(ctx(t), db, table, func(*state.Set) error { return nil }); err == nil || !strings.Contains(err.Error(), "write the sandboxes of table "+table) || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("denied write: %v", err)
	}
	for _, tc := range []struct {
		item map[string]any
		want string
	}{
		{map[string]any{"version": map[string]any{"S": "1"}, "sandboxes": map[string]any{"S": "[]"}}, "attribute version is of type *types.AttributeValueMemberS, want a number"},
		{map[string]any{"version": map[string]any{"N": "0"}, "sandboxes": map[string]any{"S": "[]"}}, `attribute version is "0", want a whole number from 1`},
		{map[string]any{"version": map[string]any{"N": "1"}}, "attribute sandboxes is missing"},
		{map[string]any{"version": map[string]any{"N": "1"}, "sandboxes": map[string]any{"S": "{"}}, "attribute sandboxes is not the JSON of a list of sandboxes"},
	} {
		tc.item["id"] = map[string]any{"S": "sandboxes"}
		if err := fake.PutRawItem(account, table, tc.item); err != nil {
			t.Fatal(err)
		}
		_, err := state.Read(ctx(t), db, table)
		if err == nil || !strings.Contains(err.Error(), table) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("item %v: %v, want %q", tc.item, err, tc.want)
		}
	}
}
