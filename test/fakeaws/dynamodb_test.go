package fakeaws

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// dynamoDBClient is the real SDK client (JSON 1.0), pointed at the fake, without retries.
func dynamoDBClient(t *testing.T, url, key string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(key, "s", ""), Retryer: aws.NopRetryer{}})
}

func sv(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }
func nv(n string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: n} }

var itemKey = map[string]ddbtypes.AttributeValue{"id": sv("sandboxes")}

// TestTheRealDynamoDBClientWritesConditionallyAndReads: the two conditions of an optimistic
// read-modify-write (first write, then "the version I read") hold or fail as DynamoDB's do,
// a failed one writes nothing and answers ConditionalCheckFailedException, and tables belong
// to one account.
func TestTheRealDynamoDBClientWritesConditionallyAndReads(t *testing.T) {
	s := New()
	s.SetAccount("AKIDDEV", "222222222222")
	s.SetAccount("AKIDSTG", "333333333333")
	s.SetTable("222222222222", "payments-checkout-dev-sandboxes")
	url := srvURL(t, s)
	db := dynamoDBClient(t, url, "AKIDDEV")
	table := aws.String("payments-checkout-dev-sandboxes")
	get := func() map[string]ddbtypes.AttributeValue {
		t.Helper()
		out, err := db.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: table, Key: itemKey, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		return out.Item
	}
	put := func(version, condition string, values map[string]ddbtypes.AttributeValue) error {
		in := &dynamodb.PutItemInput{TableName: table, Item: map[string]ddbtypes.AttributeValue{"id": sv("sandboxes"), "version": nv(version), "sandboxes": sv("[]")}}
		if condition != "" {
			in.ConditionExpression, in.ExpressionAttributeValues = aws.String(condition), values
		}
		_, err := db.PutItem(ctx(t), in)
		return err
	}
	var lost *ddbtypes.ConditionalCheckFailedException

	// GIVEN an empty table: no item
	if item := get(); item != nil {
		t.Fatalf("item of an empty table: %v", item)
	}
	if c, _ := s.Last("GetItem"); c.Input["ConsistentRead"] != true || c.Input["TableName"] != "payments-checkout-dev-sandboxes" {
		t.Errorf("recorded GetItem %v", c.Input)
	}
	// WHEN the first write says the item must not exist: it is written, once
	if err := put("1", "attribute_not_exists(id)", nil); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := put("1", "attribute_not_exists(id)", nil); !errors.As(err, &lost) || aws.ToString(lost.Message) != "The conditional request failed" {
		t.Fatalf("second first write: %v, want ConditionalCheckFailedException", err)
	}
	// WHEN a write names the version it read: it holds for that version only, numerically
	if err := put("2", "version = :v", map[string]ddbtypes.AttributeValue{":v": nv("1.0")}); err != nil {
		t.Fatalf("write over version 1: %v", err)
	}
	if err := put("2", "version = :v", map[string]ddbtypes.AttributeValue{":v": nv("1")}); !errors.As(err, &lost) {
		t.Fatalf("write over a stale version: %v, want ConditionalCheckFailedException", err)
	}
	// THEN the item is the last write that held, as the SDK decodes it and as a test reads it raw
	item := get()
	if v, ok := item["version"].(*ddbtypes.AttributeValueMemberN); !ok || v.Value != "2" {
		t.Errorf("item %v, want version 2", item)
	}
	if raw, ok := s.Item("222222222222", "payments-checkout-dev-sandboxes", "sandboxes"); !ok || raw["version"].(map[string]any)["N"] != "2" {
		t.Errorf("raw item %v", raw)
	}

	// AND a failed condition can return the item that failed it
	_, err := db.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: map[string]ddbtypes.AttributeValue{"id": sv("sandboxes"), "version": nv("9")},
		ConditionExpression: aws.String("#v = :v"), ExpressionAttributeNames: map[string]string{"#v": "version"},
		ExpressionAttributeValues:           map[string]ddbtypes.AttributeValue{":v": nv("7")},
		ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld})
	if !errors.As(err, &lost) || lost.Item["version"].(*ddbtypes.AttributeValueMemberN).Value != "2" {
		t.Errorf("failed write with ALL_OLD: %v, item %v", err, lost.Item)
	}

	// AND a condition naming an undefined value is DynamoDB's ValidationException
	var api smithy.APIError
	if err := put("3", "version = :w", nil); !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
		t.Errorf("undefined :w: %v, want ValidationException", err)
	}

	// AND the table is the dev account's: another account, or another name, has none
	var notFound *ddbtypes.ResourceNotFoundException
	stg := dynamoDBClient(t, url, "AKIDSTG")
	if _, err := stg.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: table, Key: itemKey}); !errors.As(err, &notFound) {
		t.Errorf("GetItem from another account: %v, want ResourceNotFoundException", err)
	}
	if _, err := db.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: aws.String("nope"), Item: itemKey}); !errors.As(err, &notFound) {
		t.Errorf("PutItem to an unknown table: %v, want ResourceNotFoundException", err)
	}
}

// TestDynamoDBFaultsAndSeeds: a planned fault reaches the SDK as DynamoDB's error type, and
// a test can seed an item the SDK then reads.
func TestDynamoDBFaultsAndSeeds(t *testing.T) {
	s := New()
	s.SetTable("000000000000", "t")
	if err := s.PutRawItem("000000000000", "t", map[string]any{"id": map[string]any{"S": "sandboxes"}, "version": map[string]any{"N": "5"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRawItem("000000000000", "t", map[string]any{"version": map[string]any{"N": "5"}}); err == nil {
		t.Error("an item without its key was seeded")
	}
	db := dynamoDBClient(t, srvURL(t, s), "AKIDANY")
	out, err := db.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String("t"), Key: itemKey})
	if err != nil || out.Item["version"].(*ddbtypes.AttributeValueMemberN).Value != "5" {
		t.Fatalf("GetItem of the seeded item: %v, %v", out, err)
	}
	s.Fail("PutItem", Fault{Status: 400, Code: "ProvisionedThroughputExceededException", Message: "slow down"}, 1)
	var slow *ddbtypes.ProvisionedThroughputExceededException
	if _, err := db.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: aws.String("t"), Item: itemKey}); !errors.As(err, &slow) {
		t.Errorf("planned fault: %v, want ProvisionedThroughputExceededException", err)
	}
	if _, err := db.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: aws.String("t"), Item: itemKey}); err != nil {
		t.Errorf("after the one planned fault: %v", err)
	}
}
