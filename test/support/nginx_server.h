// A throwaway nginx for benchmarks and tests: one worker on a free loopback
// port, answering every POST with the bytes of one file (keep-alive on), its
// files in a temporary folder removed on exit. In TLS mode it serves HTTPS
// with HTTP/2 (ALPN) under a self-signed certificate made at start, and logs
// each request's protocol and connection. Failing to start it is an error,
// never a skip.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/loopback.h"

extern char** environ;

namespace llmkit::test {

struct NginxOptions {
  // HTTPS with HTTP/2, a fresh self-signed certificate for 127.0.0.1 and
  // localhost (cert_file()), and an access log (access_log()).
  bool tls = false;
};

class NginxServer {
 public:
  // Serves `body` (JSON) at every path.
  explicit NginxServer(const std::string& body) : NginxServer(body, NginxOptions{}) {}
  NginxServer(const std::string& body, const NginxOptions& options) : tls_(options.tls) {
    char tmpl[] = "/tmp/llmkit-nginx-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    // Run as root, nginx's worker drops to "nobody", which must read the file.
    std::filesystem::permissions(
        dir_, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                  std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                  std::filesystem::perms::others_exec);
    std::filesystem::create_directories(dir_ + "/www/v1/chat");
    std::ofstream(dir_ + "/www/v1/chat/completions", std::ios::binary) << body;
    if (tls_) make_certificate();
    port_ = free_port();
    // A static file answers GET only: a POST gets 405, which error_page turns
    // into a 200 with the same file. Logs off for the benchmark, whose cost
    // they would be; on in TLS mode, unbuffered, so that a finished request's
    // line is in the file without waiting for a flush.
    std::ostringstream conf;
    conf << "worker_processes 1;\npid " << dir_ << "/nginx.pid;\nerror_log " << dir_
         << "/error.log error;\nevents { worker_connections 1024; }\nhttp {\n";
    if (tls_) {
      conf << "  log_format proto '$server_protocol $connection $status $request';\n"
           << "  access_log " << access_log_file() << " proto;\n";
    } else {
      conf << "  access_log off;\n";
    }
    conf << "  keepalive_requests 1000000;\n  keepalive_timeout 60s;\n"
         << "  client_body_temp_path " << dir_ << "/body;\n  proxy_temp_path " << dir_
         << "/proxy;\n  fastcgi_temp_path " << dir_ << "/fcgi;\n  uwsgi_temp_path " << dir_
         << "/uwsgi;\n  scgi_temp_path " << dir_ << "/scgi;\n  server {\n";
    if (tls_) {
      // nginx before 1.25.1 turns HTTP/2 on in listen; later ones with "http2 on;".
      conf << "    listen 127.0.0.1:" << port_
           << (new_http2_syntax() ? " ssl;\n    http2 on;\n" : " ssl http2;\n")
           << "    ssl_certificate " << cert_file() << ";\n    ssl_certificate_key " << dir_
           << "/key.pem;\n";
    } else {
      conf << "    listen 127.0.0.1:" << port_ << ";\n";
    }
    conf << "    root " << dir_ << "/www;\n"
         << "    default_type application/json;\n    error_page 405 =200 $uri;\n  }\n}\n";
    std::ofstream(dir_ + "/nginx.conf") << conf.str();
    std::vector<std::string> argv = {"nginx", "-p",         dir_, "-c", dir_ + "/nginx.conf",
                                     "-g",    "daemon off;"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    // Debian installs nginx in /usr/sbin, which a user's PATH may lack.
    if (posix_spawn(&pid_, "/usr/sbin/nginx", nullptr, nullptr, args.data(), environ) != 0 &&
        posix_spawnp(&pid_, "nginx", nullptr, nullptr, args.data(), environ) != 0) {
      throw std::runtime_error("cannot start nginx: is it installed (scripts/install-deps.sh)?");
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepts(port_)) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        std::ifstream in(dir_ + "/error.log");
        std::stringstream log;
        log << in.rdbuf();
        throw std::runtime_error("nginx exited at start (" + dir_ + "/error.log): " + log.str());
      }
      if (std::chrono::steady_clock::now() > deadline) {
        // The destructor will not run: no nginx may outlive the failure.
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
        throw std::runtime_error("nginx did not accept connections within 10 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~NginxServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  std::string url(const std::string& path = "") const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) + path;
  }

  // TLS mode: the server's certificate (PEM), its own CA.
  std::string cert_file() const {
    require_tls("cert_file");
    return dir_ + "/cert.pem";
  }

  // TLS mode: the access log's lines so far, one per finished request:
  // "$server_protocol $connection $status $request" ($request last: it
  // holds spaces; it keeps the client's method, which error_page turns into
  // GET in $request_method).
  std::vector<std::string> access_log() const {
    std::ifstream in(access_log_file());
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  void require_tls(const char* what) const {
    if (!tls_) throw std::logic_error(std::string("NginxServer::") + what + " needs TLS mode");
  }
  std::string access_log_file() const {
    require_tls("access_log");
    return dir_ + "/access.log";
  }

  // Runs `argv` (argv[0] a full path) with its output in `log`; throws
  // unless it exits 0.
  static void run(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<std::string> copy = argv;
    std::vector<char*> args;
    for (auto& a : copy) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot run " + argv[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::ifstream in(log);
      std::stringstream out;
      out << in.rdbuf();
      throw std::runtime_error(argv[0] + " failed: " + out.str());
    }
  }

  // A throwaway key and self-signed certificate for 127.0.0.1 and
  // localhost; nginx's master, still root, reads both before its worker
  // drops to nobody.
  void make_certificate() {
    run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir_ + "/key.pem", "-out",
         dir_ + "/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost"},
        dir_ + "/openssl.log");
  }

  // Whether this nginx wants "http2 on;" (1.25.1 and later, which deprecate
  // "listen ... http2") rather than the listen parameter.
  bool new_http2_syntax() const {
    const std::string log = dir_ + "/nginx-version.log";
    run({nginx_path(), "-v"}, log);
    std::ifstream in(log);
    std::string text;
    std::getline(in, text);
    int v[3] = {0, 0, 0};
    const auto at = text.find("nginx/");
    if (at == std::string::npos ||
        std::sscanf(text.c_str() + at, "nginx/%d.%d.%d", &v[0], &v[1], &v[2]) != 3) {
      throw std::runtime_error("cannot read the nginx version from: " + text);
    }
    return std::tuple(v[0], v[1], v[2]) >= std::tuple(1, 25, 1);
  }

  // Debian installs nginx in /usr/sbin, which a user's PATH may lack.
  static std::string nginx_path() {
    if (access("/usr/sbin/nginx", X_OK) == 0) return "/usr/sbin/nginx";
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');) {
      if (!dir.empty() && access((dir + "/nginx").c_str(), X_OK) == 0) return dir + "/nginx";
    }
    throw std::runtime_error("cannot find nginx: is it installed (scripts/install-deps.sh)?");
  }

  bool tls_ = false;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace llmkit::test
