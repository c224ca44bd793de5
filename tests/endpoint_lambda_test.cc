// Copyright 2026 The runnel Authors.
//
// The Lambda REST service and the CloudWatch Logs service of the AWS
// endpoint, called through Dispatch with requests shaped as botocore sends
// them, on a real DB, with real zips (built here with libzip) of the real
// example plugins, loaded with dlopen and invoked for real.

#include <zip.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "runnel/db.h"
#include "runnel/triggers.h"
#include "tests/testutil.h"
#include "tools/endpoint/endpoint.h"
#include "tools/endpoint/lambda_internal.h"

namespace runnel::endpoint {
namespace {

using json = nlohmann::json;
using test::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A zip holding `files` (name -> contents), as `zip` would make it.
std::string MakeZip(const TempDir& dir, const std::map<std::string, std::string>& files) {
  static int n = 0;
  const std::string path = dir.Sub("pkg" + std::to_string(n++) + ".zip");
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_NE(za, nullptr);
  for (const auto& [name, data] : files) {
    zip_source_t* src = zip_source_buffer(za, data.data(), data.size(), 0);
    EXPECT_GE(zip_file_add(za, name.c_str(), src, ZIP_FL_OVERWRITE), 0);
  }
  EXPECT_EQ(zip_close(za), 0);
  return ReadAll(path);
}

class EndpointLambda : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    ASSERT_OK(DB::Open(o, dir_.Sub("db"), &db_));
    ASSERT_OK(db_->triggers()->Start());
    ctx_.db = db_.get();
    ctx_.db_dir = dir_.Sub("db");
    ctx_.request_id = "test-request";
    process_stream_zip_ = MakeZip(dir_, {{"process_stream.so", ReadAll(PROCESS_STREAM)}});
  }

  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& query = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.query = query;
    r.body = body;
    r.headers = std::move(headers);
    if (!body.empty()) r.headers.emplace_back("content-type", "application/json");
    return Dispatch(ctx_, r);
  }
  HttpResponse Logs(const std::string& op, const json& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.body = body.dump();
    r.headers = {{"x-amz-target", "Logs_20140328." + op},
                 {"content-type", "application/x-amz-json-1.1"}};
    return Dispatch(ctx_, r);
  }
  static json Body(const HttpResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  static void ExpectRestError(const HttpResponse& r, int status, const std::string& type) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(Header(r, "x-amzn-ErrorType"), type) << r.body;
  }
  static void ExpectLogsError(const HttpResponse& r, const std::string& type) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Header(r, "Content-Type"), "application/x-amz-json-1.1");
    EXPECT_EQ(Body(r).value("__type", ""), type) << r.body;
  }

  json CreateBody(const std::string& name, const std::string& zip,
                  const std::string& handler = "process_stream.so") {
    return {{"FunctionName", name},
            {"Runtime", "provided.al2023"},
            {"Role", "arn:aws:iam::000000000000:role/lambda-role"},
            {"Handler", handler},
            {"Code", {{"ZipFile", lambda::Base64(zip)}}},
            {"Timeout", 10}};
  }
  HttpResponse Create(const std::string& name, const std::string& zip,
                      const std::string& handler = "process_stream.so") {
    return Call("POST", "/2015-03-31/functions", CreateBody(name, zip, handler).dump());
  }
  HttpResponse Invoke(const std::string& name, const std::string& payload,
                      const std::string& type = "RequestResponse", bool tail = false) {
    std::vector<std::pair<std::string, std::string>> h = {{"x-amz-invocation-type", type}};
    if (tail) h.emplace_back("x-amz-log-type", "Tail");
    return Call("POST", "/2015-03-31/functions/" + name + "/invocations", payload, "", h);
  }
  std::string StreamTable(const std::string& table) {
    StreamSpecification spec;
    spec.stream_enabled = true;
    spec.stream_view_type = StreamViewType::kNewAndOldImages;
    EXPECT_OK(db_->CreateTable(table, spec));
    TableDescription d;
    EXPECT_OK(db_->DescribeTable(table, &d));
    return d.latest_stream_arn;
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
  ServiceContext ctx_;
  std::string process_stream_zip_;
};

const char* kInsertEvent = R"({"Records":[{"eventName":"INSERT","eventSource":"aws:dynamodb",)"
                           R"("dynamodb":{"Keys":{"key":{"S":"k1"}},"NewImage":{"key":{"S":"k1"}},)"
                           R"("SequenceNumber":"7","StreamViewType":"NEW_AND_OLD_IMAGES"}}]})";

TEST_F(EndpointLambda, CreateFunctionAnswersTheCloudsConfiguration) {
  const HttpResponse r = Create("ProcessDynamoDBStream", process_stream_zip_);
  ASSERT_EQ(r.status, 201) << r.body;
  const json j = Body(r);
  EXPECT_EQ(j["FunctionName"], "ProcessDynamoDBStream");
  FunctionConfiguration f;
  ASSERT_OK(db_->triggers()->GetFunction("ProcessDynamoDBStream", &f));
  EXPECT_EQ(j["FunctionArn"], f.function_arn);
  EXPECT_EQ(j["Runtime"], "provided.al2023");
  EXPECT_EQ(j["Role"], "arn:aws:iam::000000000000:role/lambda-role");
  EXPECT_EQ(j["Handler"], "process_stream.so");
  EXPECT_EQ(j["Timeout"], 10);
  EXPECT_EQ(j["MemorySize"], 128);
  EXPECT_EQ(j["Version"], "$LATEST");
  EXPECT_EQ(j["State"], "Active");
  EXPECT_EQ(j["PackageType"], "Zip");
  EXPECT_EQ(j["CodeSize"], process_stream_zip_.size());
  // base64 of the SHA-256 of the zip: 44 characters ending in '='.
  const std::string sha = j["CodeSha256"];
  EXPECT_EQ(sha.size(), 44u);
  EXPECT_EQ(sha.back(), '=');
  // 2026-11-29T22:07:08.816+0000
  const std::string t = j["LastModified"];
  ASSERT_EQ(t.size(), 28u) << t;
  EXPECT_EQ(t.substr(10, 1), "T");
  EXPECT_EQ(t.substr(19, 1), ".");
  EXPECT_EQ(t.substr(23), "+0000");
  EXPECT_FALSE(j.contains("Library"));
  // The library lives in the DB directory, not in the request.
  EXPECT_EQ(f.library.find(std::filesystem::canonical(ctx_.db_dir).string() + "/functions/"), 0u)
      << f.library;
  EXPECT_EQ(f.handler, "runnel_handler");

  // The same name again: the cloud's conflict.
  ExpectRestError(Create("ProcessDynamoDBStream", process_stream_zip_), 409,
                  "ResourceConflictException");
  EXPECT_EQ(Body(Create("ProcessDynamoDBStream", process_stream_zip_))["message"],
            "Function already exist: ProcessDynamoDBStream");
}

TEST_F(EndpointLambda, HandlerNamesTheLibraryAndTheSymbol) {
  const HttpResponse r =
      Create("WithSymbol", MakeZip(dir_, {{"lib/fn.so", ReadAll(PROCESS_STREAM)}}),
             "lib/fn.so:runnel_handler");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["Handler"], "lib/fn.so:runnel_handler");
  // A symbol the library does not export: nothing is created.
  HttpResponse bad = Create("NoSymbol", process_stream_zip_, "process_stream.so:no_such_symbol");
  ExpectRestError(bad, 400, "InvalidParameterValueException");
  // A file the zip does not hold.
  bad = Create("NoFile", process_stream_zip_, "other.so");
  ExpectRestError(bad, 400, "InvalidParameterValueException");
  EXPECT_NE(Body(bad)["message"].get<std::string>().find("other.so"), std::string::npos);
  // A handler in another runtime's shape.
  ExpectRestError(Create("NodeStyle", process_stream_zip_, "index.handler"), 400,
                  "InvalidParameterValueException");
  std::vector<FunctionConfiguration> fns;
  ASSERT_OK(db_->triggers()->ListFunctions(&fns));
  EXPECT_EQ(fns.size(), 1u);
}

TEST_F(EndpointLambda, CreateFunctionRejectsBadInput) {
  // Not a zip.
  HttpResponse r = Create("NotZip", "this is not a zip file");
  ExpectRestError(r, 400, "InvalidParameterValueException");
  EXPECT_EQ(Body(r)["message"],
            "Could not unzip uploaded file. Please check your file, then try to upload again.");
  // An entry escaping the extraction directory.
  r = Create("Escape", MakeZip(dir_, {{"../evil.so", "x"}}), "../evil.so");
  ExpectRestError(r, 400, "InvalidParameterValueException");
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("db/functions/evil.so")));
  // Runtime is required, as in the cloud.
  json body = CreateBody("NoRuntime", process_stream_zip_);
  body.erase("Runtime");
  r = Call("POST", "/2015-03-31/functions", body.dump());
  ExpectRestError(r, 400, "InvalidParameterValueException");
  EXPECT_EQ(Body(r)["message"],
            "Runtime and Handler are mandatory parameters for functions created with deployment "
            "packages.");
  // Parameters runnel does not serve are named.
  body = CreateBody("Layered", process_stream_zip_);
  body["Layers"] = {"arn:aws:lambda:us-east-1:000000000000:layer:x:1"};
  r = Call("POST", "/2015-03-31/functions", body.dump());
  ExpectRestError(r, 400, "InvalidParameterValueException");
  EXPECT_EQ(Body(r)["message"], "Layers is not supported by runnel");
  // Out of the model's range.
  body = CreateBody("BigMemory", process_stream_zip_);
  body["MemorySize"] = 20000;
  ExpectRestError(Call("POST", "/2015-03-31/functions", body.dump()), 400, "ValidationException");
  body = CreateBody("LongTimeout", process_stream_zip_);
  body["Timeout"] = 901;
  ExpectRestError(Call("POST", "/2015-03-31/functions", body.dump()), 400,
                  "InvalidParameterValueException");
  // Larger than the cloud takes.
  r = Call("POST", "/2015-03-31/functions", std::string(69905068, ' '));
  ExpectRestError(r, 413, "RequestTooLargeException");
  EXPECT_EQ(Body(r)["message"],
            "Request must be smaller than 69905067 bytes for the CreateFunction operation");
  // Malformed JSON.
  ExpectRestError(Call("POST", "/2015-03-31/functions", "{not json"), 400,
                  "InvalidRequestContentException");
  std::vector<FunctionConfiguration> fns;
  ASSERT_OK(db_->triggers()->ListFunctions(&fns));
  EXPECT_TRUE(fns.empty());
}

TEST_F(EndpointLambda, GetAndList) {
  ASSERT_EQ(Create("fa", process_stream_zip_).status, 201);
  ASSERT_EQ(Create("fb", process_stream_zip_).status, 201);
  ASSERT_EQ(Create("fc", process_stream_zip_).status, 201);

  HttpResponse r = Call("GET", "/2015-03-31/functions/fb", "");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["Configuration"]["FunctionName"], "fb");
  EXPECT_EQ(j["Code"]["RepositoryType"], "S3");
  const std::string location = j["Code"]["Location"];
  ASSERT_EQ(location.rfind("file://", 0), 0u);
  EXPECT_EQ(ReadAll(location.substr(7)), process_stream_zip_);
  // By ARN (percent-encoded, as botocore sends it).
  const std::string arn = j["Configuration"]["FunctionArn"];
  std::string encoded;
  for (char c : arn) encoded += c == ':' ? std::string("%3A") : std::string(1, c);
  EXPECT_EQ(Call("GET", "/2015-03-31/functions/" + encoded, "").status, 200);
  r = Call("GET", "/2015-03-31/functions/nope", "");
  ExpectRestError(r, 404, "ResourceNotFoundException");
  EXPECT_EQ(Body(r)["message"],
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");

  // Paging, as botocore's paginator does it.
  r = Call("GET", "/2015-03-31/functions/", "", "MaxItems=2");
  ASSERT_EQ(r.status, 200) << r.body;
  j = Body(r);
  ASSERT_EQ(j["Functions"].size(), 2u);
  EXPECT_EQ(j["Functions"][0]["FunctionName"], "fa");
  ASSERT_TRUE(j.contains("NextMarker"));
  r = Call("GET", "/2015-03-31/functions/", "",
           "Marker=" + j["NextMarker"].get<std::string>() + "&MaxItems=2");
  j = Body(r);
  ASSERT_EQ(j["Functions"].size(), 1u);
  EXPECT_EQ(j["Functions"][0]["FunctionName"], "fc");
  EXPECT_FALSE(j.contains("NextMarker"));
}

TEST_F(EndpointLambda, UpdateAndDelete) {
  ASSERT_EQ(Create("fa", process_stream_zip_).status, 201);
  ASSERT_EQ(Create("fb", process_stream_zip_).status, 201);
  // UpdateFunctionConfiguration.
  HttpResponse r = Call("PUT", "/2015-03-31/functions/fb/configuration",
                        R"({"Timeout":30,"MemorySize":256,"Description":"d",)"
                        R"("Environment":{"Variables":{"A":"1"}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["Timeout"], 30);
  EXPECT_EQ(j["MemorySize"], 256);
  EXPECT_EQ(j["Description"], "d");
  EXPECT_EQ(j["Environment"]["Variables"]["A"], "1");
  EXPECT_EQ(j["Handler"], "process_stream.so");
  FunctionConfiguration f;
  ASSERT_OK(db_->triggers()->GetFunction("fb", &f));
  EXPECT_EQ(f.timeout_seconds, 30u);
  EXPECT_EQ(f.environment.at("A"), "1");
  EXPECT_EQ(Body(Call("GET", "/2015-03-31/functions/fb/configuration", ""))["MemorySize"], 256);

  // UpdateFunctionCode: another zip, another CodeSha256, the same handler.
  const std::string old_sha = j["CodeSha256"];
  const std::string zip2 =
      MakeZip(dir_, {{"process_stream.so", ReadAll(PROCESS_STREAM)}, {"README", "version 2"}});
  r = Call("PUT", "/2015-03-31/functions/fb/code", json{{"ZipFile", lambda::Base64(zip2)}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  j = Body(r);
  EXPECT_NE(j["CodeSha256"], old_sha);
  EXPECT_EQ(j["CodeSize"], zip2.size());
  EXPECT_EQ(j["Timeout"], 30);
  ExpectRestError(Call("PUT", "/2015-03-31/functions/nope/code",
                       json{{"ZipFile", lambda::Base64(zip2)}}.dump()),
                  404, "ResourceNotFoundException");

  // DeleteFunction.
  r = Call("DELETE", "/2015-03-31/functions/fb", "");
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  ExpectRestError(Call("GET", "/2015-03-31/functions/fb", ""), 404, "ResourceNotFoundException");
  ExpectRestError(Call("DELETE", "/2015-03-31/functions/fb", ""), 404, "ResourceNotFoundException");
  // Versions are not served: a qualifier other than $LATEST is not found.
  ExpectRestError(Call("GET", "/2015-03-31/functions/fa", "", "Qualifier=1"), 404,
                  "ResourceNotFoundException");
  EXPECT_EQ(Call("GET", "/2015-03-31/functions/fa", "", "Qualifier=%24LATEST").status, 200);
  ExpectRestError(Call("POST", "/2015-03-31/functions/fa/versions", "{}"), 404,
                  "UnknownOperationException");
}

TEST_F(EndpointLambda, NewCodeWithAnotherLibraryName) {
  ASSERT_EQ(Create("fn", process_stream_zip_, "process_stream.so:runnel_handler").status, 201);
  const std::string zip = MakeZip(dir_, {{"renamed.so", ReadAll(PROCESS_STREAM)}});
  HttpResponse r =
      Call("PUT", "/2015-03-31/functions/fn/code", json{{"ZipFile", lambda::Base64(zip)}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["Handler"], "renamed.so:runnel_handler");
  EXPECT_EQ(Invoke("fn", kInsertEvent).status, 200);
  // Two libraries: which one is meant is not guessed.
  const std::string two =
      MakeZip(dir_, {{"a.so", ReadAll(PROCESS_STREAM)}, {"b.so", ReadAll(PROCESS_STREAM)}});
  r = Call("PUT", "/2015-03-31/functions/fn/code", json{{"ZipFile", lambda::Base64(two)}}.dump());
  ExpectRestError(r, 400, "InvalidParameterValueException");
  EXPECT_EQ(Body(Call("GET", "/2015-03-31/functions/fn/configuration", ""))["Handler"],
            "renamed.so:runnel_handler");
  // Handler then picks one of them.
  r = Call("PUT", "/2015-03-31/functions/fn/configuration", R"({"Handler":"renamed.so"})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = Call("PUT", "/2015-03-31/functions/fn/configuration", R"({"Handler":"missing.so"})");
  ExpectRestError(r, 400, "InvalidParameterValueException");
}

TEST_F(EndpointLambda, FunctionCreatedOutsideTheEndpoint) {
  // As `runnel create-function --library` makes it: no zip, no Runtime.
  FunctionConfiguration config, created;
  config.function_name = "local";
  config.library = PROCESS_STREAM;
  ASSERT_OK(db_->triggers()->CreateFunction(config, &created));
  const HttpResponse r = Call("GET", "/2015-03-31/functions/local", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = Body(r);
  EXPECT_EQ(j["Configuration"]["Handler"], "process_stream.so:runnel_handler");
  EXPECT_EQ(j["Configuration"]["Runtime"], "provided.al2023");
  EXPECT_EQ(j["Configuration"]["CodeSize"], std::filesystem::file_size(PROCESS_STREAM));
  EXPECT_EQ(j["Code"]["Location"], "file://" + created.library);
  EXPECT_EQ(Invoke("local", kInsertEvent).status, 200);
}

TEST_F(EndpointLambda, InvokeRequestResponseEventDryRunAndTail) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  HttpResponse r = Invoke("fn", kInsertEvent, "RequestResponse", /*tail=*/true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "null");
  EXPECT_EQ(Header(r, "X-Amz-Executed-Version"), "$LATEST");
  EXPECT_EQ(Header(r, "X-Amz-Function-Error"), "");
  std::string tail;
  ASSERT_TRUE(lambda::Base64Decode(Header(r, "X-Amz-Log-Result"), &tail));
  EXPECT_EQ(tail.rfind("START RequestId: ", 0), 0u) << tail;
  EXPECT_NE(tail.find("INSERT key=k1"), std::string::npos) << tail;
  EXPECT_NE(tail.find("Successfully processed 1 records."), std::string::npos) << tail;
  EXPECT_NE(tail.find("\nEND RequestId: "), std::string::npos) << tail;
  EXPECT_NE(tail.find("\nREPORT RequestId: "), std::string::npos) << tail;

  // Without Tail: no log header. No payload: an event without records.
  r = Invoke("fn", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Header(r, "X-Amz-Log-Result"), "");

  r = Invoke("fn", kInsertEvent, "Event");
  EXPECT_EQ(r.status, 202);
  EXPECT_TRUE(r.body.empty());
  r = Invoke("fn", kInsertEvent, "DryRun");
  EXPECT_EQ(r.status, 204);
  std::vector<FunctionLogLine> lines;
  ASSERT_OK(db_->triggers()->ReadFunctionLog("fn", 0, &lines));
  size_t starts = 0;
  for (const auto& l : lines) starts += l.text.find(" START RequestId: ") != std::string::npos;
  EXPECT_EQ(starts, 3u);  // RequestResponse twice and Event; DryRun runs nothing

  ExpectRestError(Invoke("nope", kInsertEvent), 404, "ResourceNotFoundException");
  ExpectRestError(Invoke("fn", "{not json"), 400, "InvalidRequestContentException");
  ExpectRestError(Invoke("fn", R"({"hello":"world"})"), 400, "InvalidRequestContentException");
  ExpectRestError(Invoke("fn", kInsertEvent, "Sometimes"), 400, "ValidationException");
}

TEST_F(EndpointLambda, InvokeFunctionErrorIsUnhandled) {
  json body = CreateBody("failing", MakeZip(dir_, {{"fail_on_key.so", ReadAll(FAIL_ON_KEY)}}),
                         "fail_on_key.so");
  body["Environment"] = {{"Variables", {{"FAIL_KEY", "k1"}}}};
  ASSERT_EQ(Call("POST", "/2015-03-31/functions", body.dump()).status, 201);
  const HttpResponse r = Invoke("failing", kInsertEvent, "RequestResponse", true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Header(r, "X-Amz-Function-Error"), "Unhandled");
  const json j = Body(r);
  EXPECT_EQ(j["errorMessage"].get<std::string>().rfind("RequestId: ", 0), 0u) << r.body;
  EXPECT_EQ(j["errorType"], "Unhandled");
  std::string tail;
  ASSERT_TRUE(lambda::Base64Decode(Header(r, "X-Amz-Log-Result"), &tail));
  EXPECT_NE(tail.find("failing on key k1"), std::string::npos) << tail;
}

TEST_F(EndpointLambda, TailIsTheLast4KB) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  std::string payload = R"({"Records":[)";
  for (int i = 0; i < 100; ++i) {
    if (i) payload += ",";
    payload += R"({"eventName":"INSERT","dynamodb":{"Keys":{"key":{"S":"key-number-)" +
               std::to_string(i) + R"("}},"SequenceNumber":")" + std::to_string(i + 1) + "\"}}";
  }
  payload += "]}";
  const HttpResponse r = Invoke("fn", payload, "RequestResponse", true);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string tail;
  ASSERT_TRUE(lambda::Base64Decode(Header(r, "X-Amz-Log-Result"), &tail));
  EXPECT_EQ(tail.size(), 4096u);
  EXPECT_NE(tail.find("REPORT RequestId: "), std::string::npos);
  EXPECT_EQ(tail.find("START RequestId: "), std::string::npos);
}

TEST_F(EndpointLambda, TumblingWindowIsAcceptedCheckedAndEchoed) {
  ASSERT_EQ(Create("ProcessDynamoDBStream", process_stream_zip_).status, 201);
  const std::string stream = StreamTable("Music");
  json req = {{"EventSourceArn", stream},
              {"FunctionName", "ProcessDynamoDBStream"},
              {"StartingPosition", "LATEST"},
              {"TumblingWindowInSeconds", 901}};
  HttpResponse r = Call("POST", "/2015-03-31/event-source-mappings/", req.dump());
  ExpectRestError(r, 400, "ValidationException");
  EXPECT_NE(r.body.find("less than or equal to 900"), std::string::npos) << r.body;
  req["TumblingWindowInSeconds"] = 120;
  r = Call("POST", "/2015-03-31/event-source-mappings/", req.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Body(r)["TumblingWindowInSeconds"], 120);
  const std::string uuid = Body(r)["UUID"];
  r = Call("PUT", "/2015-03-31/event-source-mappings/" + uuid,
           json{{"TumblingWindowInSeconds", 30}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Body(r)["TumblingWindowInSeconds"], 30);
  r = Call("GET", "/2015-03-31/event-source-mappings/" + uuid, "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["TumblingWindowInSeconds"], 30);
}

// StartingPosition SNAPSHOT is a runnel extension (the cloud refuses it):
// accepted, echoed, and its progress shown beside the cloud's fields.
TEST_F(EndpointLambda, SnapshotStartingPositionIsARunnelExtension) {
  ASSERT_EQ(Create("ProcessDynamoDBStream", process_stream_zip_).status, 201);
  const std::string stream = StreamTable("Music");
  HttpResponse r = Call("POST", "/2015-03-31/event-source-mappings/",
                        json{{"EventSourceArn", stream},
                             {"FunctionName", "ProcessDynamoDBStream"},
                             {"StartingPosition", "SNAPSHOT"}}
                            .dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string uuid = Body(r)["UUID"];
  EXPECT_EQ(Body(r)["StartingPosition"], "SNAPSHOT");
  r = Call("GET", "/2015-03-31/event-source-mappings/" + uuid, "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["StartingPosition"], "SNAPSHOT");
  EXPECT_TRUE(Body(r)["RunnelMetrics"].contains("SnapshotRecords")) << r.body;
  EXPECT_TRUE(Body(r)["RunnelMetrics"].contains("SnapshotDone")) << r.body;
}

TEST_F(EndpointLambda, MappingLifecycleAndProcessing) {
  ASSERT_EQ(Create("ProcessDynamoDBStream", process_stream_zip_).status, 201);
  const std::string stream = StreamTable("Music");
  // As `aws lambda create-event-source-mapping --function-name ... --event-source ...
  // --batch-size 100 --starting-position TRIM_HORIZON` sends it.
  HttpResponse r = Call("POST", "/2015-03-31/event-source-mappings/",
                        json{{"EventSourceArn", stream},
                             {"FunctionName", "ProcessDynamoDBStream"},
                             {"BatchSize", 100},
                             {"StartingPosition", "TRIM_HORIZON"}}
                            .dump());
  ASSERT_EQ(r.status, 202) << r.body;
  json j = Body(r);
  const std::string uuid = j["UUID"];
  EXPECT_EQ(j["State"], "Creating");
  EXPECT_EQ(j["StartingPosition"], "TRIM_HORIZON");
  EXPECT_EQ(j["BatchSize"], 100);
  EXPECT_EQ(j["MaximumBatchingWindowInSeconds"], 0);
  EXPECT_EQ(j["ParallelizationFactor"], 1);
  EXPECT_EQ(j["EventSourceArn"], stream);
  EXPECT_EQ(j["LastProcessingResult"], "No records processed");
  EXPECT_EQ(j["StateTransitionReason"], "User action");
  EXPECT_EQ(j["MaximumRetryAttempts"], -1);
  EXPECT_EQ(j["MaximumRecordAgeInSeconds"], -1);
  EXPECT_EQ(j["BisectBatchOnFunctionError"], false);
  EXPECT_EQ(j["TumblingWindowInSeconds"], 0);
  EXPECT_TRUE(j["DestinationConfig"]["OnFailure"].is_object());
  EXPECT_TRUE(j["FunctionResponseTypes"].is_array());
  EXPECT_TRUE(j["LastModified"].is_number());
  FunctionConfiguration f;
  ASSERT_OK(db_->triggers()->GetFunction("ProcessDynamoDBStream", &f));
  EXPECT_EQ(j["FunctionArn"], f.function_arn);

  // Items put through the DB API reach the function.
  ASSERT_OK(db_->Put(WriteOptions(), "Music", "song1", "v1"));
  ASSERT_OK(db_->Put(WriteOptions(), "Music", "song1", "v2"));
  ASSERT_OK(db_->Delete(WriteOptions(), "Music", "song1"));
  ASSERT_TRUE(test::WaitFor(
      [&] {
        const json g = Body(Call("GET", "/2015-03-31/event-source-mappings/" + uuid, ""));
        return g["LastProcessingResult"] == "OK";
      },
      std::chrono::seconds(20)));
  j = Body(Call("GET", "/2015-03-31/event-source-mappings/" + uuid, ""));
  EXPECT_EQ(j["State"], "Enabled");

  // Its log, through CloudWatch Logs. (The three records may arrive in two
  // batches; LastProcessingResult is OK after the first: wait for the last.)
  std::string all;
  ASSERT_TRUE(test::WaitFor(
      [&] {
        r = Logs("FilterLogEvents",
                 {{"logGroupName", "/aws/lambda/ProcessDynamoDBStream"}, {"interleaved", true}});
        if (r.status != 200) return false;
        all.clear();
        const json events = Body(r)["events"];
        for (const auto& e : events) all += e["message"].get<std::string>() + "\n";
        return all.find("REMOVE key=song1") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << r.status << " " << all;
  // runnel's figures beside the cloud's fields: the three records went in.
  j = Body(Call("GET", "/2015-03-31/event-source-mappings/" + uuid, ""));
  EXPECT_EQ(j["RunnelMetrics"]["RecordsIn"], 3) << j.dump();
  EXPECT_GE(j["RunnelMetrics"]["Invocations"], 1) << j.dump();
  EXPECT_EQ(j["RunnelMetrics"]["Errors"], 0) << j.dump();
  EXPECT_EQ(j["RunnelMetrics"]["RecordsFilteredOut"], 0) << j.dump();
  EXPECT_FALSE(j["RunnelMetrics"].contains("SnapshotRecords")) << j.dump();
  EXPECT_NE(all.find("START RequestId: "), std::string::npos) << r.body;
  EXPECT_NE(all.find("INSERT key=song1"), std::string::npos) << all;
  EXPECT_NE(all.find("MODIFY key=song1"), std::string::npos) << all;
  EXPECT_NE(all.find("REMOVE key=song1"), std::string::npos) << all;
  EXPECT_NE(all.find("END RequestId: "), std::string::npos) << all;
  EXPECT_NE(all.find("REPORT RequestId: "), std::string::npos) << all;
}

TEST_F(EndpointLambda, MappingFilterCriteriaAreAcceptedEchoedAndApplied) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  const std::string stream = StreamTable("Music");
  const std::string removes = R"({"eventName":["REMOVE"]})";
  const json criteria = {{"Filters", {{{"Pattern", removes}}}}};
  HttpResponse r = Call("POST", "/2015-03-31/event-source-mappings/",
                        json{{"EventSourceArn", stream},
                             {"FunctionName", "fn"},
                             {"StartingPosition", "TRIM_HORIZON"},
                             {"FilterCriteria", criteria}}
                            .dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string uuid = Body(r)["UUID"];
  EXPECT_EQ(Body(r)["FilterCriteria"], criteria);
  const std::string path = "/2015-03-31/event-source-mappings/" + uuid;
  EXPECT_EQ(Body(Call("GET", path, ""))["FilterCriteria"], criteria);

  // Only the REMOVE record reaches the function.
  ASSERT_OK(db_->Put(WriteOptions(), "Music", "song1", "v1"));
  ASSERT_OK(db_->Put(WriteOptions(), "Music", "song1", "v2"));
  ASSERT_OK(db_->Delete(WriteOptions(), "Music", "song1"));
  std::string all;
  ASSERT_TRUE(test::WaitFor(
      [&] {
        r = Logs("FilterLogEvents", {{"logGroupName", "/aws/lambda/fn"}, {"interleaved", true}});
        all.clear();
        const json body = Body(r);
        for (const auto& e : body["events"]) all += e["message"].get<std::string>() + "\n";
        return all.find("REPORT RequestId: ") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << all;
  EXPECT_NE(all.find("REMOVE key=song1"), std::string::npos) << all;
  EXPECT_EQ(all.find("INSERT"), std::string::npos) << all;
  EXPECT_EQ(all.find("MODIFY"), std::string::npos) << all;

  // Invalid patterns and shapes: InvalidParameterValueException naming the
  // problem; the mapping keeps its filters.
  r = Call("PUT", path,
           R"({"FilterCriteria":{"Filters":[{"Pattern":"{\"eventName\":[{\"prefix\":1}]}"}]}})");
  ExpectRestError(r, 400, "InvalidParameterValueException");
  EXPECT_NE(Body(r)["message"].get<std::string>().find("key eventName: prefix: expected a string"),
            std::string::npos)
      << r.body;
  r = Call("PUT", path, R"({"FilterCriteria":{"Filters":{"Pattern":"{}"}}})");
  ExpectRestError(r, 400, "InvalidParameterValueException");
  EXPECT_NE(Body(r)["message"].get<std::string>().find("FilterCriteria.Filters: expected a list"),
            std::string::npos)
      << r.body;
  json six = {{"FilterCriteria", {{"Filters", json::array()}}}};
  for (int i = 0; i < 6; ++i) six["FilterCriteria"]["Filters"].push_back({{"Pattern", removes}});
  r = Call("PUT", path, six.dump());
  ExpectRestError(r, 400, "InvalidParameterValueException");
  EXPECT_EQ(Body(r)["message"], "FilterCriteria: at most 5 filters, got 6");
  EXPECT_EQ(Body(Call("GET", path, ""))["FilterCriteria"], criteria);

  // Update replaces them; {"Filters":[]} clears them (and the cloud's shape
  // then has no FilterCriteria).
  const json inserts = {{"Filters", {{{"Pattern", R"({"eventName":["INSERT"]})"}}}}};
  r = Call("PUT", path, json{{"FilterCriteria", inserts}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Body(r)["FilterCriteria"], inserts);
  r = Call("PUT", path, R"({"FilterCriteria":{"Filters":[]}})");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_FALSE(Body(r).contains("FilterCriteria")) << r.body;
  EXPECT_FALSE(Body(Call("GET", path, "")).contains("FilterCriteria"));
}

TEST_F(EndpointLambda, MappingUpdateAndDelete) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  const std::string stream = StreamTable("Music");
  HttpResponse r =
      Call("POST", "/2015-03-31/event-source-mappings/",
           json{{"EventSourceArn", stream}, {"FunctionName", "fn"}, {"StartingPosition", "LATEST"}}
               .dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string uuid = Body(r)["UUID"];
  // Update: 202 and State Updating; the change is there.
  r = Call("PUT", "/2015-03-31/event-source-mappings/" + uuid,
           R"({"BatchSize":5,"Enabled":false,"MaximumRetryAttempts":3,"ParallelizationFactor":3})");
  ASSERT_EQ(r.status, 202) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["State"], "Updating");
  EXPECT_EQ(j["BatchSize"], 5);
  EXPECT_EQ(j["ParallelizationFactor"], 3);
  EXPECT_EQ(j["MaximumRetryAttempts"], 3);
  EXPECT_EQ(Body(Call("GET", "/2015-03-31/event-source-mappings/" + uuid, ""))["State"],
            "Disabled");
  ExpectRestError(Call("PUT", "/2015-03-31/event-source-mappings/" + uuid, R"({"BatchSize":0})"),
                  400, "ValidationException");
  ExpectRestError(
      Call("PUT", "/2015-03-31/event-source-mappings/" + uuid, R"({"ParallelizationFactor":11})"),
      400, "ValidationException");
  EXPECT_EQ(
      Body(Call("GET", "/2015-03-31/event-source-mappings/" + uuid, ""))["ParallelizationFactor"],
      3);

  // Delete: 202 and State Deleting; then it is gone.
  r = Call("DELETE", "/2015-03-31/event-source-mappings/" + uuid, "");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Body(r)["State"], "Deleting");
  r = Call("GET", "/2015-03-31/event-source-mappings/" + uuid, "");
  ExpectRestError(r, 404, "ResourceNotFoundException");
  EXPECT_EQ(Body(r)["message"], "The resource you requested does not exist.");
  ExpectRestError(Call("DELETE", "/2015-03-31/event-source-mappings/" + uuid, ""), 404,
                  "ResourceNotFoundException");
}

TEST_F(EndpointLambda, MappingEchoesEverySettingAndRejectsBadOnes) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  const std::string stream = StreamTable("src");
  ASSERT_OK(db_->CreateTable("failures", StreamSpecification()));
  const json full = {{"EventSourceArn", stream},
                     {"FunctionName", "fn"},
                     {"Enabled", false},
                     {"BatchSize", 10},
                     {"MaximumBatchingWindowInSeconds", 2},
                     {"StartingPosition", "LATEST"},
                     {"MaximumRetryAttempts", 4},
                     {"MaximumRecordAgeInSeconds", 120},
                     {"BisectBatchOnFunctionError", true},
                     {"DestinationConfig", {{"OnFailure", {{"Destination", "failures"}}}}},
                     {"FunctionResponseTypes", {"ReportBatchItemFailures"}},
                     {"ParallelizationFactor", 4}};
  HttpResponse r = Call("POST", "/2015-03-31/event-source-mappings/", full.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const json j = Body(r);
  EXPECT_EQ(j["BatchSize"], 10);
  EXPECT_EQ(j["ParallelizationFactor"], 4);
  EXPECT_EQ(j["MaximumBatchingWindowInSeconds"], 2);
  EXPECT_EQ(j["StartingPosition"], "LATEST");
  EXPECT_EQ(j["MaximumRetryAttempts"], 4);
  EXPECT_EQ(j["MaximumRecordAgeInSeconds"], 120);
  EXPECT_EQ(j["BisectBatchOnFunctionError"], true);
  EXPECT_EQ(j["DestinationConfig"]["OnFailure"]["Destination"], "failures");
  EXPECT_EQ(j["FunctionResponseTypes"], json::array({"ReportBatchItemFailures"}));
  EXPECT_EQ(Body(Call("GET", "/2015-03-31/event-source-mappings/" + j["UUID"].get<std::string>(),
                      ""))["State"],
            "Disabled");

  // AT_TIMESTAMP (epoch seconds, as botocore sends a timestamp) is echoed.
  json at = {{"EventSourceArn", stream},
             {"FunctionName", "fn"},
             {"StartingPosition", "AT_TIMESTAMP"},
             {"StartingPositionTimestamp", 1796500000.5}};
  r = Call("POST", "/2015-03-31/event-source-mappings/", at.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Body(r)["StartingPosition"], "AT_TIMESTAMP");
  EXPECT_DOUBLE_EQ(Body(r)["StartingPositionTimestamp"].get<double>(), 1796500000.5);
  at.erase("StartingPositionTimestamp");
  ExpectRestError(Call("POST", "/2015-03-31/event-source-mappings/", at.dump()), 400,
                  "InvalidParameterValueException");
  ASSERT_EQ(
      Call("DELETE", "/2015-03-31/event-source-mappings/" + Body(r)["UUID"].get<std::string>(), "")
          .status,
      202);

  auto with = [&](const char* key, json value) {
    json b = full;
    b[key] = std::move(value);
    return Call("POST", "/2015-03-31/event-source-mappings/", b.dump());
  };
  ExpectRestError(with("BatchSize", 10001), 400, "ValidationException");
  ExpectRestError(with("MaximumBatchingWindowInSeconds", 301), 400, "ValidationException");
  ExpectRestError(with("MaximumRecordAgeInSeconds", 30), 400, "InvalidParameterValueException");
  ExpectRestError(with("StartingPosition", "SOMEWHERE"), 400, "ValidationException");
  ExpectRestError(with("FunctionName", "nope"), 404, "ResourceNotFoundException");
  ExpectRestError(with("EventSourceArn", stream + "x"), 400, "InvalidParameterValueException");
  ExpectRestError(with("ParallelizationFactor", 11), 400, "ValidationException");
  ExpectRestError(with("ParallelizationFactor", 0), 400, "ValidationException");
  ExpectRestError(with("FilterCriteria", {{"Filters", {{{"Pattern", "{}"}}}}}), 400,
                  "InvalidParameterValueException");
  ExpectRestError(with("Queues", {"q"}), 400, "InvalidParameterValueException");
  std::vector<EventSourceMappingConfiguration> all;
  std::string next;
  ASSERT_OK(db_->triggers()->ListEventSourceMappings("", "", "", 0, &all, &next));
  EXPECT_EQ(all.size(), 1u);
}

TEST_F(EndpointLambda, ListMappingsFiltersAndPages) {
  ASSERT_EQ(Create("f1", process_stream_zip_).status, 201);
  ASSERT_EQ(Create("f2", process_stream_zip_).status, 201);
  const std::string s1 = StreamTable("tab1"), s2 = StreamTable("tab2");
  std::set<std::string> f1_uuids;
  for (const auto& [fn, stream] : std::vector<std::pair<std::string, std::string>>{
           {"f1", s1}, {"f1", s2}, {"f1", s1}, {"f2", s1}}) {
    const HttpResponse r = Call(
        "POST", "/2015-03-31/event-source-mappings/",
        json{{"EventSourceArn", stream}, {"FunctionName", fn}, {"StartingPosition", "TRIM_HORIZON"}}
            .dump());
    ASSERT_EQ(r.status, 202) << r.body;
    if (fn == "f1") f1_uuids.insert(Body(r)["UUID"].get<std::string>());
  }
  // Page through f1's mappings two at a time.
  std::set<std::string> seen;
  std::string query = "FunctionName=f1&MaxItems=2";
  int pages = 0;
  while (true) {
    const HttpResponse r = Call("GET", "/2015-03-31/event-source-mappings/", "", query);
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = Body(r);
    EXPECT_LE(j["EventSourceMappings"].size(), 2u);
    for (const auto& m : j["EventSourceMappings"]) seen.insert(m["UUID"].get<std::string>());
    ++pages;
    if (!j.contains("NextMarker")) break;
    query = "FunctionName=f1&MaxItems=2&Marker=" + j["NextMarker"].get<std::string>();
    ASSERT_LT(pages, 5);
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen, f1_uuids);
  // By stream (URL-encoded as botocore sends it), and both filters.
  std::string encoded;
  for (char c : s1) {
    encoded += (c == ':' || c == '/') ? (c == ':' ? std::string("%3A") : std::string("%2F"))
                                      : std::string(1, c);
  }
  json j = Body(Call("GET", "/2015-03-31/event-source-mappings/", "", "EventSourceArn=" + encoded));
  EXPECT_EQ(j["EventSourceMappings"].size(), 3u);
  j = Body(Call("GET", "/2015-03-31/event-source-mappings/", "",
                "EventSourceArn=" + encoded + "&FunctionName=f2"));
  EXPECT_EQ(j["EventSourceMappings"].size(), 1u);
  ExpectRestError(Call("GET", "/2015-03-31/event-source-mappings/", "", "MaxItems=0"), 400,
                  "ValidationException");
}

TEST_F(EndpointLambda, DeleteFunctionDeletesItsMappingsAndCode) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  ASSERT_EQ(Create("keep", process_stream_zip_).status, 201);
  const std::string stream = StreamTable("tab");
  ASSERT_EQ(
      Call("POST", "/2015-03-31/event-source-mappings/",
           json{{"EventSourceArn", stream}, {"FunctionName", "fn"}, {"StartingPosition", "LATEST"}}
               .dump())
          .status,
      202);
  ASSERT_EQ(Call("DELETE", "/2015-03-31/functions/fn", "").status, 204);
  const json j = Body(Call("GET", "/2015-03-31/event-source-mappings/", ""));
  EXPECT_TRUE(j["EventSourceMappings"].empty());
  // The code another function uses stays, and that function still runs.
  EXPECT_EQ(Invoke("keep", kInsertEvent).status, 200);
}

class EndpointLogs : public EndpointLambda {};

TEST_F(EndpointLogs, GroupsStreamsAndEvents) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  ASSERT_EQ(Create("quiet", process_stream_zip_).status, 201);
  ASSERT_EQ(Invoke("fn", kInsertEvent).status, 200);
  ASSERT_EQ(Invoke("fn", kInsertEvent).status, 200);

  HttpResponse r = Logs("DescribeLogGroups", {{"logGroupNamePrefix", "/aws/lambda/"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Header(r, "Content-Type"), "application/x-amz-json-1.1");
  json j = Body(r);
  ASSERT_EQ(j["logGroups"].size(), 1u) << r.body;  // quiet was never invoked
  EXPECT_EQ(j["logGroups"][0]["logGroupName"], "/aws/lambda/fn");
  EXPECT_EQ(j["logGroups"][0]["arn"],
            "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:*");
  EXPECT_TRUE(
      Body(Logs("DescribeLogGroups", {{"logGroupNamePrefix", "/other"}}))["logGroups"].empty());

  r = Logs("DescribeLogStreams", {{"logGroupName", "/aws/lambda/fn"},
                                  {"orderBy", "LastEventTime"},
                                  {"descending", true},
                                  {"limit", 1}});
  ASSERT_EQ(r.status, 200) << r.body;
  j = Body(r);
  ASSERT_EQ(j["logStreams"].size(), 1u);
  const std::string stream = j["logStreams"][0]["logStreamName"];
  EXPECT_GT(j["logStreams"][0]["lastEventTimestamp"].get<int64_t>(), 0);
  ExpectLogsError(Logs("DescribeLogStreams", {{"logGroupName", "/aws/lambda/nope"}}),
                  "ResourceNotFoundException");

  // GetLogEvents from the head, 3 at a time, following nextForwardToken to
  // the end (where the token comes back unchanged).
  std::vector<std::string> messages;
  json req = {{"logGroupName", "/aws/lambda/fn"},
              {"logStreamName", stream},
              {"startFromHead", true},
              {"limit", 3}};
  for (int i = 0; i < 20; ++i) {
    r = Logs("GetLogEvents", req);
    ASSERT_EQ(r.status, 200) << r.body;
    j = Body(r);
    for (const auto& e : j["events"]) messages.push_back(e["message"]);
    if (req.contains("nextToken") && req["nextToken"] == j["nextForwardToken"]) break;
    req["nextToken"] = j["nextForwardToken"];
  }
  // Two invocations: START, 2 lines, END, REPORT each.
  ASSERT_EQ(messages.size(), 10u);
  EXPECT_EQ(messages[0].rfind("START RequestId: ", 0), 0u);
  EXPECT_EQ(messages[1].find("INSERT key=k1") != std::string::npos, true) << messages[1];
  EXPECT_EQ(messages[4].rfind("REPORT RequestId: ", 0), 0u);
  // Without startFromHead: the newest events.
  j = Body(Logs("GetLogEvents",
                {{"logGroupName", "/aws/lambda/fn"}, {"logStreamName", stream}, {"limit", 2}}));
  ASSERT_EQ(j["events"].size(), 2u);
  EXPECT_EQ(j["events"][1]["message"].get<std::string>().rfind("REPORT", 0), 0u);
  ExpectLogsError(
      Logs("GetLogEvents", {{"logGroupName", "/aws/lambda/fn"}, {"logStreamName", "other"}}),
      "ResourceNotFoundException");
  ExpectLogsError(Logs("GetLogEvents", {{"logGroupName", "/aws/lambda/fn"}}),
                  "InvalidParameterException");
}

TEST_F(EndpointLogs, FilterLogEventsAsLogsTailFollows) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  ASSERT_EQ(Invoke("fn", kInsertEvent).status, 200);
  const int64_t start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() -
                           600000;
  // What `aws logs tail --follow` sends: interleaved, startTime; then it
  // re-asks from the newest timestamp seen, dropping eventIds it printed.
  json req = {{"logGroupName", "/aws/lambda/fn"}, {"interleaved", true}, {"startTime", start_ms}};
  std::map<int64_t, std::set<std::string>> seen;
  std::vector<std::string> printed;
  auto poll = [&] {
    const HttpResponse r = Logs("FilterLogEvents", req);
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = Body(r);
    for (const auto& e : j["events"]) {
      EXPECT_TRUE(e.contains("logStreamName"));
      EXPECT_TRUE(e.contains("ingestionTime"));
      if (seen[e["timestamp"]].insert(e["eventId"].get<std::string>()).second) {
        printed.push_back(e["message"]);
      }
    }
    ASSERT_FALSE(j.contains("nextToken"));
    if (!seen.empty()) req["startTime"] = seen.rbegin()->first;
  };
  poll();
  EXPECT_EQ(printed.size(), 5u);
  poll();
  EXPECT_EQ(printed.size(), 5u);  // nothing new, nothing twice
  ASSERT_EQ(Invoke("fn", kInsertEvent).status, 200);
  poll();
  ASSERT_EQ(printed.size(), 10u);
  EXPECT_EQ(printed[5].rfind("START RequestId: ", 0), 0u);
  EXPECT_EQ(printed[9].rfind("REPORT RequestId: ", 0), 0u);

  // Paging with limit and nextToken.
  json page = {{"logGroupName", "/aws/lambda/fn"}, {"limit", 4}};
  size_t total = 0;
  for (int i = 0; i < 10; ++i) {
    const json j = Body(Logs("FilterLogEvents", page));
    total += j["events"].size();
    if (!j.contains("nextToken")) break;
    page["nextToken"] = j["nextToken"];
  }
  EXPECT_EQ(total, 10u);

  // Filter patterns of terms.
  auto count = [&](const std::string& pattern) {
    return Body(Logs("FilterLogEvents",
                     {{"logGroupName", "/aws/lambda/fn"}, {"filterPattern", pattern}}))["events"]
        .size();
  };
  EXPECT_EQ(count("REPORT"), 2u);
  EXPECT_EQ(count("RequestId -REPORT"), 4u);  // START and END
  EXPECT_EQ(count("?START ?END"), 4u);
  EXPECT_EQ(count("\"Successfully processed 1 records.\""), 2u);
  EXPECT_EQ(count("nothing-like-this"), 0u);
  ExpectLogsError(Logs("FilterLogEvents", {{"logGroupName", "/aws/lambda/fn"},
                                           {"filterPattern", "{ $.level = \"ERROR\" }"}}),
                  "InvalidParameterException");
  ExpectLogsError(Logs("FilterLogEvents", {{"logGroupName", "/aws/lambda/none"}}),
                  "ResourceNotFoundException");
  ExpectLogsError(Logs("PutLogEvents", json::object()), "UnknownOperationException");
}

TEST_F(EndpointLogs, DeletedFunctionKeepsItsLogGroup) {
  ASSERT_EQ(Create("fn", process_stream_zip_).status, 201);
  ASSERT_EQ(Invoke("fn", kInsertEvent).status, 200);
  ASSERT_EQ(Call("DELETE", "/2015-03-31/functions/fn", "").status, 204);
  const HttpResponse r = Logs("FilterLogEvents", {{"logGroupName", "/aws/lambda/fn"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["events"].size(), 5u);
}

}  // namespace
}  // namespace runnel::endpoint
