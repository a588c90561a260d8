module github.com/glacier-pipeline/glacier

go 1.26
