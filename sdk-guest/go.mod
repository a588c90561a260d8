module github.com/glacier-pipeline/glacier/sdk-guest

go 1.26
