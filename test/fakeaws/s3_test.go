package fakeaws

import (
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// s3Client is the real SDK client (REST-XML), path-style, pointed at the fake.
func s3Client(t *testing.T, s *Server) *s3.Client {
	return s3.New(s3.Options{
		Region:       "eu-central-1",
		BaseEndpoint: aws.String(srvURL(t, s)),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDS3", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// TestTheRealS3ClientGetsAndHeadsObjects: body, metadata and content type reach the SDK's
// deserializer; a key with a colon (an image digest) is found; missing keys and buckets,
// and a planned fault, are the modelled errors.
func TestTheRealS3ClientGetsAndHeadsObjects(t *testing.T) {
	s := New()
	const key = "payments/checkout/sha256:0123abcd.spdx.json"
	s.SetObject("sboms", key, Object{Body: []byte(`{"spdxVersion":"SPDX-2.3"}`), Metadata: map[string]string{"commit": "1a2b3c"}, ContentType: "application/spdx+json"})
	cl := s3Client(t, s)

	got, err := cl.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("sboms"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != `{"spdxVersion":"SPDX-2.3"}` || got.Metadata["commit"] != "1a2b3c" || aws.ToString(got.ContentType) != "application/spdx+json" ||
		got.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms {
		t.Errorf("GetObject: body %q, metadata %v, type %s, sse %s", body, got.Metadata, aws.ToString(got.ContentType), got.ServerSideEncryption)
	}
	head, err := cl.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String("sboms"), Key: aws.String(key)})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(body)) || head.Metadata["commit"] != "1a2b3c" {
		t.Errorf("HeadObject: %v, %+v", err, head)
	}
	call, _ := s.Last("HeadObject")
	if call.AccessKey != "AKIDS3" || call.Region != "eu-central-1" || call.Input["Bucket"] != "sboms" || call.Input["Key"] != key {
		t.Errorf("recorded %+v", call)
	}

	var nsk *s3types.NoSuchKey
	if _, err := cl.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("sboms"), Key: aws.String("other")}); !errors.As(err, &nsk) {
		t.Errorf("GetObject of a missing key: %v, want NoSuchKey", err)
	}
	var nf *s3types.NotFound
	if _, err := cl.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String("sboms"), Key: aws.String("other")}); !errors.As(err, &nf) {
		t.Errorf("HeadObject of a missing key: %v, want NotFound", err)
	}
	var api smithy.APIError
	if _, err := cl.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String(key)}); !errors.As(err, &api) || api.ErrorCode() != "NoSuchBucket" {
		t.Errorf("GetObject of a missing bucket: %v, want NoSuchBucket", err)
	}
	s.Fail("GetObject", Fault{Status: 403, Code: "AccessDenied", Message: "Access Denied"}, 1)
	if _, err := cl.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("sboms"), Key: aws.String(key)}); !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
		t.Errorf("GetObject with a planned fault: %v, want AccessDenied", err)
	}
}
