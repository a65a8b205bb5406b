package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of DynamoDB the record needs.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// The item's key and attributes.
const (
	// KeyAttribute is the table's partition key (type S).
	KeyAttribute = "id"
	// ItemID is the key of the one item of a path.
	ItemID = "sandboxes"
	// VersionAttribute (N) is incremented by every write.
	VersionAttribute = "version"
	// SandboxesAttribute (S) is the JSON of []Sandbox.
	SandboxesAttribute = "sandboxes"
)

// The conditions of a write: the first one creates the item, every later one replaces the
// version it read.
const (
	conditionNew     = "attribute_not_exists(" + KeyAttribute + ")"
	conditionVersion = VersionAttribute + " = :v"
)

// MaxAttempts bounds Update's read-modify-write attempts. A writer loses an attempt only to
// another writer that succeeded meanwhile, so with fewer than MaxAttempts concurrent writers
// every Update succeeds.
const MaxAttempts = 10

// ErrContention is what Update returns, wrapped, when every attempt lost to another writer.
var ErrContention = errors.New("every attempt lost to a concurrent write")

// Read reads the path's sandboxes from table, consistently (what the last write wrote). With
// no item yet it returns an empty Set of Version 0.
func Read(ctx context.Context, api API, table string) (Set, error) {
	out, err := api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: ItemID}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Set{}, fmt.Errorf("read the sandboxes of table %s: %w", table, err)
	}
	if len(out.Item) == 0 {
		return Set{}, nil
	}
	set, err := decode(out.Item)
	if err != nil {
		return Set{}, fmt.Errorf("read the sandboxes of table %s: item %s=%q: %w", table, KeyAttribute, ItemID, err)
	}
	return set, nil
}

// decode reads an item's version and sandboxes.
func decode(item map[string]types.AttributeValue) (Set, error) {
	var set Set
	v, ok := item[VersionAttribute].(*types.AttributeValueMemberN)
	if !ok {
		return Set{}, fmt.Errorf("attribute %s is %s, want a number", VersionAttribute, describe(item[VersionAttribute]))
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil || n < 1 {
		return Set{}, fmt.Errorf("attribute %s is %q, want a whole number from 1", VersionAttribute, v.Value)
	}
	set.Version = n
	s, ok := item[SandboxesAttribute].(*types.AttributeValueMemberS)
	if !ok {
		return Set{}, fmt.Errorf("attribute %s is %s, want a string of JSON", SandboxesAttribute, describe(item[SandboxesAttribute]))
	}
	if err := json.Unmarshal([]byte(s.Value), &set.Sandboxes); err != nil {
		return Set{}, fmt.Errorf("attribute %s is not the JSON of a list of sandboxes: %v", SandboxesAttribute, err)
	}
	return set, nil
}

// describe names an attribute value's type for an error.
func describe(v types.AttributeValue) string {
	if v == nil {
		return "missing"
	}
	return fmt.Sprintf("of type %T", v)
}

// encode is the item that holds set.
func encode(set Set) (map[string]types.AttributeValue, error) {
	sandboxes := set.Sandboxes
	if sandboxes == nil {
		sandboxes = []Sandbox{} // "[]", not "null": the item always holds a list
	}
	j, err := json.Marshal(sandboxes)
	if err != nil {
		return nil, err
	}
	return map[string]types.AttributeValue{
		KeyAttribute:       &types.AttributeValueMemberS{Value: ItemID},
		VersionAttribute:   &types.AttributeValueMemberN{Value: strconv.FormatInt(set.Version, 10)},
		SandboxesAttribute: &types.AttributeValueMemberS{Value: string(j)},
	}, nil
}

// Update changes the path's sandboxes in table and returns what it wrote. change gets a copy
// of what was read and may return an error to write nothing: Update then returns that error
// as it is, with the set read. Since Update reads again and calls change again whenever
// another writer won the race, change must decide from the set alone, and do nothing else
// (start no build, send nothing) until Update has returned.
func Update(ctx context.Context, api API, table string, change func(*Set) error) (Set, error) {
	for attempt := 1; ; attempt++ {
		read, err := Read(ctx, api, table)
		if err != nil {
			return Set{}, err
		}
		next := read.Clone()
		if err := change(&next); err != nil {
			return read, err
		}
		next.Version = read.Version + 1
		item, err := encode(next)
		if err != nil {
			return Set{}, fmt.Errorf("write the sandboxes of table %s: %w", table, err)
		}
		in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ConditionExpression: aws.String(conditionNew)}
		if read.Version > 0 {
			in.ConditionExpression = aws.String(conditionVersion)
			in.ExpressionAttributeValues = map[string]types.AttributeValue{
				":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(read.Version, 10)},
			}
		}
		_, err = api.PutItem(ctx, in)
		var lost *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return next, nil
		case !errors.As(err, &lost):
			return Set{}, fmt.Errorf("write the sandboxes of table %s (version %d): %w", table, next.Version, err)
		case attempt == MaxAttempts:
			return Set{}, fmt.Errorf("write the sandboxes of table %s: %w (%d attempts)", table, ErrContention, MaxAttempts)
		}
		// Another writer won: wait a little, jittered, so that losers do not collide again.
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return Set{}, fmt.Errorf("write the sandboxes of table %s: %w", table, err)
		}
	}
}

// backoff is the wait after the attempt-th lost race: up to 5ms doubled per attempt, at
// most 100ms, jittered.
func backoff(attempt int) time.Duration {
	ceiling := min(5*time.Millisecond<<(attempt-1), 100*time.Millisecond)
	return rand.N(ceiling) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
