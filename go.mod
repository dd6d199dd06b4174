module github.com/oktasight/oktasight

go 1.26.8

require (
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/splunk/splunk-cloud-sdk-go v1.11.1
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/golang/glog v0.0.0-20160126235308-23def4e6c14b // indirect
	github.com/pkg/errors v0.8.1 // indirect
	github.com/splunk/go-dependencies v1.0.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
