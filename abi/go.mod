module github.com/glacier-pipeline/glacier/abi

go 1.26
