package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogsURL(t *testing.T) {
	env := map[string]string{
		"AWS_REGION":                 "eu-west-1",
		"AWS_LAMBDA_LOG_GROUP_NAME":  "/aws/lambda/etl-clean",
		"AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/07/[$LATEST]0123abcd",
	}
	link := logsURL(func(k string) string { return env[k] })
	require.NotNil(t, link)
	start := time.UnixMilli(1796630400000)
	assert.Equal(t, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/"+
		"$252Faws$252Flambda$252Fetl-clean/log-events/2026$252F12$252F07$252F$255B$2524LATEST$255D0123abcd"+
		"$3Fstart$3D1796630400000$26end$3D1796630403500",
		link(start, start.Add(2500*time.Millisecond)))

	delete(env, "AWS_LAMBDA_LOG_STREAM_NAME")
	assert.Nil(t, logsURL(func(k string) string { return env[k] }), "no link without the stream")
}
