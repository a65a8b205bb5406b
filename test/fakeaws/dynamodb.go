package fakeaws

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math/big"
	"net/http"
	"regexp"
	"strings"
)

// dynamoDBService is the X-Amz-Target prefix of DynamoDB's JSON 1.0 protocol.
const dynamoDBService = "DynamoDB_20120810"

// dynamoDBErrorPrefix is how DynamoDB qualifies its error types (__type); the SDK keeps what
// follows the '#'.
const dynamoDBErrorPrefix = "com.amazonaws.dynamodb.v20120810#"

// TableKey is the partition key (type S) of every table SetTable makes: the one the sandbox
// table has.
const TableKey = "id"

// SetTable makes the DynamoDB table name exist, empty, in account, with the partition key
// TableKey (type S). As with SetRepository, the account of a call is its signer's, and every
// environment account may have a table of the same name. A later SetTable of the same pair
// empties it.
func (s *Server) SetTable(account, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tables == nil {
		s.tables = map[string]map[string]map[string]any{}
	}
	s.tables[account+"/"+name] = map[string]map[string]any{}
}

// Item returns the raw item of key id in the table, in DynamoDB's JSON form
// ({"version":{"N":"3"}, ...}), and whether there is one.
func (s *Server) Item(account, table, id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	item, ok := s.tables[account+"/"+table][id]
	if !ok {
		return nil, false
	}
	return cloneJSON(item), true
}

// PutRawItem writes item, in DynamoDB's JSON form, to the table as PutItem would without a
// condition: a test seeds a table with it, well-formed or not. The table must exist
// (SetTable) and the item must have the key TableKey as a string.
func (s *Server) PutRawItem(account, table string, item map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	items, ok := s.tables[account+"/"+table]
	if !ok {
		return fmt.Errorf("fakeaws: no table %s in account %s (SetTable first)", table, account)
	}
	id, ok := keyOf(item)
	if !ok {
		return fmt.Errorf("fakeaws: item has no %s of type S: %v", TableKey, item)
	}
	items[id] = cloneJSON(item)
	return nil
}

// keyOf is the value of the item's key, {"id":{"S":"<value>"}}.
func keyOf(item map[string]any) (string, bool) {
	av, _ := item[TableKey].(map[string]any)
	id, ok := av["S"].(string)
	return id, ok && len(av) == 1
}

func cloneJSON(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// dynamoDB answers DynamoDB's GetItem and PutItem (JSON 1.0). PutItem's ConditionExpression
// may be attribute_not_exists(<attribute>), attribute_exists(<attribute>) or
// <attribute> = :<value>, with #names from ExpressionAttributeNames; DynamoDB's answers to
// a failed condition (ConditionalCheckFailedException, with the item if
// ReturnValuesOnConditionCheckFailure is ALL_OLD), to an unknown table
// (ResourceNotFoundException) and to a malformed request (ValidationException) are its own.
// A check and its write are one step under the lock, as DynamoDB's conditional write is
// atomic.
func (s *Server) dynamoDB(w http.ResponseWriter, c Call, body []byte) {
	var in struct {
		TableName                           string
		Key, Item                           map[string]any
		ConsistentRead                      *bool
		ConditionExpression                 string
		ExpressionAttributeNames            map[string]string
		ExpressionAttributeValues           map[string]any
		ReturnValues                        string
		ReturnValuesOnConditionCheckFailure string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeDynamoDBError(w, Fault{Status: 400, Code: "SerializationException", Message: err.Error()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reject != "" && c.AccessKey == s.reject {
		writeDynamoDBError(w, Fault{Status: 400, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."})
		return
	}
	if c.Op != "GetItem" && c.Op != "PutItem" {
		writeDynamoDBError(w, Fault{Status: 400, Code: "UnknownOperationException", Message: "fakeaws does not implement DynamoDB's " + c.Op})
		return
	}
	items, known := s.tables[s.accountOf(c.AccessKey, c.SessionToken)+"/"+in.TableName]
	if !known {
		writeDynamoDBError(w, Fault{Status: 400, Code: "ResourceNotFoundException", Message: "Requested resource not found"})
		return
	}
	if c.Op == "GetItem" {
		id, ok := keyOf(in.Key)
		if !ok || len(in.Key) != 1 {
			writeDynamoDBError(w, validation("The provided key element does not match the schema"))
			return
		}
		out := map[string]any{}
		if item, ok := items[id]; ok {
			out["Item"] = cloneJSON(item)
		}
		writeDynamoDBJSON(w, out)
		return
	}
	id, ok := keyOf(in.Item)
	if !ok {
		writeDynamoDBError(w, validation("One or more parameter values were invalid: Missing the key "+TableKey+" in the item"))
		return
	}
	old, exists := items[id]
	if in.ConditionExpression != "" {
		holds, err := condition(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, old)
		if err != nil {
			writeDynamoDBError(w, validation(err.Error()))
			return
		}
		if !holds {
			f := map[string]any{"__type": dynamoDBErrorPrefix + "ConditionalCheckFailedException", "message": "The conditional request failed"}
			if in.ReturnValuesOnConditionCheckFailure == "ALL_OLD" && exists {
				f["Item"] = cloneJSON(old)
			}
			writeDynamoDBBody(w, http.StatusBadRequest, f)
			return
		}
	}
	items[id] = cloneJSON(in.Item)
	out := map[string]any{}
	if in.ReturnValues == "ALL_OLD" && exists {
		out["Attributes"] = cloneJSON(old)
	}
	writeDynamoDBJSON(w, out)
}

var (
	notExistsCondition = regexp.MustCompile(`^\s*attribute_(not_exists|exists)\s*\(\s*(#?[A-Za-z0-9_]+)\s*\)\s*$`)
	equalsCondition    = regexp.MustCompile(`^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*$`)
)

// condition evaluates the condition expressions the fake knows against the item (nil: none).
func condition(expr string, names map[string]string, values map[string]any, item map[string]any) (bool, error) {
	name := func(n string) (string, error) {
		if !strings.HasPrefix(n, "#") {
			return n, nil
		}
		if real, ok := names[n]; ok {
			return real, nil
		}
		return "", fmt.Errorf("Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: %s", n)
	}
	if m := notExistsCondition.FindStringSubmatch(expr); m != nil {
		attr, err := name(m[2])
		if err != nil {
			return false, err
		}
		_, has := item[attr]
		return has == (m[1] == "exists"), nil
	}
	if m := equalsCondition.FindStringSubmatch(expr); m != nil {
		attr, err := name(m[1])
		if err != nil {
			return false, err
		}
		want, ok := values[m[2]]
		if !ok {
			return false, fmt.Errorf("Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: %s", m[2])
		}
		got, has := item[attr]
		return has && sameValue(got, want), nil
	}
	return false, fmt.Errorf("fakeaws does not implement the ConditionExpression %q: only attribute_not_exists(a), attribute_exists(a) and a = :v", expr)
}

// sameValue compares two attribute values as DynamoDB does: numbers by value ("3" = "3.0").
func sameValue(a, b any) bool {
	an, aok := a.(map[string]any)["N"].(string)
	bn, bok := b.(map[string]any)["N"].(string)
	if aok && bok {
		x, xok := new(big.Rat).SetString(an)
		y, yok := new(big.Rat).SetString(bn)
		return xok && yok && x.Cmp(y) == 0
	}
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}

func validation(msg string) Fault {
	return Fault{Status: 400, Code: "ValidationException", Message: msg}
}

func writeDynamoDBError(w http.ResponseWriter, f Fault) {
	writeDynamoDBBody(w, f.Status, map[string]any{"__type": dynamoDBErrorPrefix + f.Code, "message": f.Message})
}

func writeDynamoDBJSON(w http.ResponseWriter, v any) { writeDynamoDBBody(w, http.StatusOK, v) }

// writeDynamoDBBody answers with DynamoDB's content type and, as DynamoDB does, the CRC32
// of the body.
func writeDynamoDBBody(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", fmt.Sprint(crc32.ChecksumIEEE(b)))
	w.WriteHeader(status)
	w.Write(b)
}
