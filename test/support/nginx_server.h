// A throwaway nginx for benchmarks: one worker on a free loopback port,
// answering every POST with the bytes of one file (keep-alive on), its
// files in a temporary folder removed on exit. Failing to start it is an
// error, never a skip.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace llmkit::test {

class NginxServer {
 public:
  // Serves `body` (JSON) at every path.
  explicit NginxServer(const std::string& body) {
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
    port_ = free_port();
    // A static file answers GET only: a POST gets 405, which error_page turns
    // into a 200 with the same file. Logs off: they would cost the benchmark.
    std::ofstream(dir_ + "/nginx.conf")
        << "worker_processes 1;\npid " << dir_ << "/nginx.pid;\nerror_log " << dir_
        << "/error.log error;\nevents { worker_connections 1024; }\nhttp {\n"
        << "  access_log off;\n  keepalive_requests 1000000;\n  keepalive_timeout 60s;\n"
        << "  client_body_temp_path " << dir_ << "/body;\n  proxy_temp_path " << dir_
        << "/proxy;\n  fastcgi_temp_path " << dir_ << "/fcgi;\n  uwsgi_temp_path " << dir_
        << "/uwsgi;\n  scgi_temp_path " << dir_ << "/scgi;\n"
        << "  server {\n    listen 127.0.0.1:" << port_ << ";\n    root " << dir_ << "/www;\n"
        << "    default_type application/json;\n    error_page 405 =200 $uri;\n  }\n}\n";
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
    while (!accepts()) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("nginx exited at start: see " + dir_ + "/error.log");
      }
      if (std::chrono::steady_clock::now() > deadline) {
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
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  static int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      close(fd);
      throw std::runtime_error("no free port");
    }
    close(fd);
    return ntohs(a.sin_port);
  }
  bool accepts() const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace llmkit::test
