package waitfor

// StdTLSClient lets the external tests put the standard TLS back after
// simulating a waitfor_notls build.
var StdTLSClient = stdTLSClient
