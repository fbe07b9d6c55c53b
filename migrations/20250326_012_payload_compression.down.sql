-- Every frame was decompressed and the strict CHECK restored first (payloads/schema.rs).
DROP TABLE payload_recompression;
DROP TABLE payload_dictionaries;
