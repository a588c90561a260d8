module github.com/glacier-pipeline/glacier/sdk-guest

go 1.26

require github.com/glacier-pipeline/glacier/abi v0.0.0

replace github.com/glacier-pipeline/glacier/abi => ../abi
