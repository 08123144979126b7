// A tiny KEDA-side client for the conformance test (test/keda/external-scaler.test.ts): KEDA's own
// generated Go client (package externalscaler, copied at build time from the Go module
// github.com/kedacore/keda/v2 by scripts/keda/build-client.sh) calling the operator's external
// scaler the way KEDA's external-push scaler does. One call per run; prints one JSON line.
//
//	kedaclient -addr 127.0.0.1:9443 -op GetMetrics -metadata '{"gateway":"edge",...}' [-metric s0-x] [-messages 2]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "switchboard.dev/kedaclient/externalscaler"
)

func main() {
	addr := flag.String("addr", "", "scaler address host:port")
	op := flag.String("op", "", "IsActive | StreamIsActive | GetMetricSpec | GetMetrics")
	md := flag.String("metadata", "{}", "scalerMetadata as a JSON object")
	name := flag.String("name", "edge-gateway", "ScaledObject name")
	namespace := flag.String("namespace", "prod", "ScaledObject namespace")
	metric := flag.String("metric", "", "metricName for GetMetrics")
	messages := flag.Int("messages", 1, "StreamIsActive: messages to read before returning")
	timeout := flag.Duration("timeout", 10*time.Second, "overall deadline")
	flag.Parse()

	var metadata map[string]string
	if err := json.Unmarshal([]byte(*md), &metadata); err != nil {
		fail(fmt.Errorf("-metadata: %w", err))
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	client := pb.NewExternalScalerClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ref := &pb.ScaledObjectRef{Name: *name, Namespace: *namespace, ScalerMetadata: metadata}

	var out any
	switch *op {
	case "IsActive":
		r, err := client.IsActive(ctx, ref)
		check(err)
		out = map[string]any{"result": r.GetResult()}
	case "GetMetricSpec":
		r, err := client.GetMetricSpec(ctx, ref)
		check(err)
		specs := []map[string]any{}
		for _, s := range r.GetMetricSpecs() {
			specs = append(specs, map[string]any{"metricName": s.GetMetricName(), "targetSize": s.GetTargetSize(), "targetSizeFloat": s.GetTargetSizeFloat()})
		}
		out = map[string]any{"metricSpecs": specs}
	case "GetMetrics":
		r, err := client.GetMetrics(ctx, &pb.GetMetricsRequest{ScaledObjectRef: ref, MetricName: *metric})
		check(err)
		values := []map[string]any{}
		for _, v := range r.GetMetricValues() {
			values = append(values, map[string]any{"metricName": v.GetMetricName(), "metricValue": v.GetMetricValue(), "metricValueFloat": v.GetMetricValueFloat()})
		}
		out = map[string]any{"metricValues": values}
	case "StreamIsActive":
		stream, err := client.StreamIsActive(ctx, ref)
		check(err)
		results := []bool{}
		for len(results) < *messages {
			m, err := stream.Recv()
			check(err)
			results = append(results, m.GetResult())
		}
		out = map[string]any{"results": results}
	default:
		fail(fmt.Errorf("unknown -op %q", *op))
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func check(err error) {
	if err == nil {
		return
	}
	if s, ok := status.FromError(err); ok {
		b, _ := json.Marshal(map[string]any{"code": s.Code().String(), "message": s.Message()})
		fmt.Println(string(b))
		os.Exit(3)
	}
	fail(err)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
