// Package motos3 runs moto's S3 server (moto_server, from the Python
// package moto) on loopback for tests: a second S3 implementation beside
// fakes3's gofakes3, and a stricter one. It enforces the multipart rules
// S3 does (every part but the last at least 5 MiB), answers a missing
// object and a missing bucket as S3 does, and checks If-None-Match on
// PutObject and CompleteMultipartUpload and If-Match on PutObject.
//
// moto_server is found as GLACIER_MOTO_SERVER names it, else in
// .tools/moto/bin (where scripts/install-test-tools.sh installs it when
// the machine has none), else on PATH. A test that needs it skips when it
// is missing, and fails instead under GLACIER_REQUIRE_TOOLS=1, as
// scripts/test sets.
package motos3

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/glacier-pipeline/glacier/internal/testutil/s3test"
	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
)

// Credentials and region the server is reached with. It checks none of
// them until EnforceIAM, but the SDK must sign with something.
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIDMOTOS3"
	SecretAccessKey = "motos3-secret"
)

// Server is a running moto_server. It is stopped when the test that
// started it ends.
type Server struct {
	// URL is the endpoint, such as http://127.0.0.1:41234.
	URL string
	// Client is a path-style client for the server, with static
	// credentials and Region; after EnforceIAM, an administrator's.
	Client *s3.Client

	creds aws.Credentials
}

// Find returns the path of moto_server, or an error saying how to install
// it.
func Find() (string, error) {
	if p := os.Getenv("GLACIER_MOTO_SERVER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("GLACIER_MOTO_SERVER names %s: %w", p, err)
		}
		return p, nil
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, ".tools", "moto", "bin", "moto_server")
				if _, err := os.Stat(p); err == nil {
					return p, nil
				}
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	p, err := exec.LookPath("moto_server")
	if err != nil {
		return "", fmt.Errorf("moto_server is not installed (not on PATH, not in .tools/moto/bin); run scripts/install-test-tools.sh, or pip install 'moto[server]==5.2.1'")
	}
	return p, nil
}

// Start starts moto_server on a free loopback port and waits until it
// answers. It skips the test when moto_server is missing (fails it under
// GLACIER_REQUIRE_TOOLS=1).
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Find()
	if err != nil {
		msg := "motos3: " + err.Error()
		if os.Getenv("GLACIER_REQUIRE_TOOLS") == "1" {
			tb.Fatal(msg + " (GLACIER_REQUIRE_TOOLS=1 makes this a failure)")
		}
		tb.Skip(msg)
	}
	// The port is picked by the kernel and freed before the server binds
	// it, so another process may take it in between; the server then
	// exits, and Start tries again with another.
	var lastOut string
	for range 3 {
		s, out, ok := start(tb, bin)
		if ok {
			return s
		}
		lastOut = out
	}
	tb.Fatalf("motos3: %s exited before answering; its output:\n%s", bin, lastOut)
	return nil
}

func start(tb testing.TB, bin string) (*Server, string, bool) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("motos3: find a free port: %v", err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(addr.Port))
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("motos3: start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		terminate(cmd)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			kill(cmd)
			<-exited
		}
	}

	// Ready when the server answers a request; a retry loop with a
	// deadline, not a guess at how long Python takes to start.
	base := "http://" + addr.String()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			return nil, out.String(), false
		default:
		}
		resp, err := client.Get(base + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			tb.Fatalf("motos3: %s did not answer on %s within 60s: %v; its output:\n%s", bin, base, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Cleanup(func() {
		stop()
		if tb.Failed() {
			tb.Logf("motos3: server output:\n%s", out.String())
		}
	})
	s := &Server{URL: base, creds: aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}}
	s.Client = s.ClientAs(s.creds)
	return s, "", true
}

// ClientAs returns a path-style client for the server signing with creds.
func (s *Server) ClientAs(creds aws.Credentials) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		// The defaults config.LoadDefaultConfig gives a deployed client.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
}

// Env returns the environment variables that point the AWS SDK's default
// configuration (s3store.NewFromEnv, a Lambda bootstrap) at the server,
// with the EC2 metadata lookup off, signing as Client does.
func (s *Server) Env() map[string]string { return s.EnvAs(s.creds) }

// EnvAs is Env signing with creds.
func (s *Server) EnvAs(creds aws.Credentials) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_S3":       s.URL,
		"AWS_REGION":                Region,
		"AWS_ACCESS_KEY_ID":         creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     creds.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}

// User creates an IAM user on the server whose only permissions are the
// IAM policy document policy, and returns its access key.
func (s *Server) User(tb testing.TB, name, policy string) aws.Credentials {
	tb.Helper()
	ctx := context.Background()
	c := iam.New(iam.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(s.creds.AccessKeyID, s.creds.SecretAccessKey, ""),
	})
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		tb.Fatalf("motos3: create user %s: %v", name, err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name),
		PolicyName: aws.String(name), PolicyDocument: aws.String(policy)}); err != nil {
		tb.Fatalf("motos3: policy of user %s: %v", name, err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		tb.Fatalf("motos3: access key of user %s: %v", name, err)
	}
	return aws.Credentials{AccessKeyID: *key.AccessKey.AccessKeyId, SecretAccessKey: *key.AccessKey.SecretAccessKey}
}

// EnforceIAM turns the server's IAM enforcement on, as real S3 has it:
// from then on a request must be signed by an IAM user's key (see User)
// and may do only what that user's policies allow. Client and Env then
// sign as an administrator, a user allowed everything.
func (s *Server) EnforceIAM(tb testing.TB) {
	tb.Helper()
	s.creds = s.User(tb, "motos3-admin", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`)
	s.Client = s.ClientAs(s.creds)
	resp, err := http.Post(s.URL+"/moto-api/reset-auth", "text/plain", strings.NewReader("0"))
	if err != nil {
		tb.Fatalf("motos3: enforce IAM: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		tb.Fatalf("motos3: enforce IAM: %s: %s", resp.Status, body)
	}
}

// CreateBucket creates a bucket, failing the test on error.
func (s *Server) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	s3test.CreateBucket(tb, s.Client, bucket)
}

// PutObject stores data at bucket/key, failing the test on error.
func (s *Server) PutObject(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	s3test.PutObject(tb, s.Client, bucket, key, data)
}

// GetObject returns the object at bucket/key and whether it exists,
// failing the test on any other error.
func (s *Server) GetObject(tb testing.TB, bucket, key string) ([]byte, bool) {
	tb.Helper()
	return s3test.GetObject(tb, s.Client, bucket, key)
}

// MultipartUploads returns the keys of the multipart uploads in progress
// in bucket.
func (s *Server) MultipartUploads(tb testing.TB, bucket string) []string {
	tb.Helper()
	return s3test.MultipartUploads(tb, s.Client, bucket)
}
