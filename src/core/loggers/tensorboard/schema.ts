import protobuf from 'protobufjs';

/**
 * The parts of TensorBoard's protocol buffers a writer needs, with TensorBoard's own field numbers:
 * `tensorboard/compat/proto/{event,summary,tensor,tensor_shape,types}.proto`, the hparams plugin's
 * `tensorboard/plugins/hparams/{plugin_data,api}.proto` and `google/protobuf/struct.proto` (Value only).
 * Fields flash never writes are left out; protobuf readers skip unknown fields, so the files stay valid.
 */
export const TENSORBOARD_PROTO = `
syntax = "proto3";
package tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
  }
}

enum DataClass {
  DATA_CLASS_UNKNOWN = 0;
  DATA_CLASS_SCALAR = 1;
  DATA_CLASS_TENSOR = 2;
  DATA_CLASS_BLOB_SEQUENCE = 3;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  DataClass data_class = 4;
}

message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
      Image image = 4;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

enum DataType {
  DT_INVALID = 0;
  DT_FLOAT = 1;
  DT_DOUBLE = 2;
  DT_INT32 = 3;
  DT_UINT8 = 4;
  DT_STRING = 7;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
}

// google.protobuf.Value (struct.proto), the type of an hparams value.
enum NullValue { NULL_VALUE = 0; }
message Value {
  oneof kind {
    NullValue null_value = 1;
    double number_value = 2;
    string string_value = 3;
    bool bool_value = 4;
  }
}

// tensorboard/plugins/hparams: what the hparams dashboard reads from summaries tagged
// _hparams_/session_start_info and _hparams_/session_end_info.
enum Status {
  STATUS_UNKNOWN = 0;
  STATUS_SUCCESS = 1;
  STATUS_FAILURE = 2;
  STATUS_RUNNING = 3;
}
message SessionStartInfo {
  map<string, Value> hparams = 1;
  string model_uri = 2;
  string monitor_url = 3;
  string group_name = 4;
  double start_time_secs = 5;
}
message SessionEndInfo {
  Status status = 1;
  double end_time_secs = 2;
}
message HParamsPluginData {
  int32 version = 1;
  oneof data {
    SessionStartInfo session_start_info = 3;
    SessionEndInfo session_end_info = 4;
  }
}
`;

let cached: protobuf.Root | undefined;

/** The parsed schema (field names as in the .proto files: `wall_time`, `simple_value`, …). */
export function tensorboardRoot(): protobuf.Root {
  cached ??= protobuf.parse(TENSORBOARD_PROTO, { keepCase: true }).root;
  return cached;
}

/** A message type of the schema by its name inside the `tensorboard` package (`Event`, `Summary`, …). */
export function tbType(name: string): protobuf.Type {
  return tensorboardRoot().lookupType(`tensorboard.${name}`);
}
