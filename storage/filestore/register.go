package filestore

import "github.com/glacier-pipeline/glacier/storage"

func init() { storage.DefaultURLMux().RegisterScheme(Scheme, driver{}) }
