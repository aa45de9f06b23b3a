// A throwaway PostgreSQL server for tests and benchmarks: a fresh cluster
// (initdb, trust authentication, fsync off) in a temporary directory,
// started on a free loopback port, stoppable and restartable on the same
// port with its data kept, removed at the end. Failing to start it is an
// error, never a skip. As root, the server runs as the "postgres" user the
// Debian package creates (PostgreSQL refuses to run as root).
#pragma once

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback.h"

namespace llmkit::test {

class PostgresServer {
 public:
  PostgresServer() : port_(free_port()) {
    bin_ = bindir();
    char dir[] = "/tmp/llmkit-pg-XXXXXX";
    if (mkdtemp(dir) == nullptr) throw std::runtime_error("cannot make a directory for postgres");
    dir_ = dir;
    if (geteuid() == 0) {
      const passwd* pw = getpwnam("postgres");
      if (pw == nullptr) throw std::runtime_error("no \"postgres\" user to run the server as");
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      if (chown(dir_.c_str(), uid_, gid_) != 0) throw std::runtime_error("cannot chown " + dir_);
    }
    const std::string data = dir_ + "/data";
    if (run({bin_ + "/initdb", "-D", data, "-A", "trust", "-U", "llmkit", "--no-sync", "-E", "UTF8",
             "--no-locale"}) != 0) {
      cleanup();
      throw std::runtime_error("initdb failed: is the postgresql package installed?");
    }
    try {
      start();
    } catch (...) {
      cleanup();
      throw;
    }
  }
  ~PostgresServer() {
    stop();
    cleanup();
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // A libpq connection URI for the server's "postgres" database.
  std::string url() const {
    return "postgresql://llmkit@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }

  // Starts it (again, on the same port, with its data) and waits until it
  // takes queries.
  void start() {
    const std::string port = std::to_string(port_);
    pid_ = spawn({bin_ + "/postgres", "-D", dir_ + "/data", "-p", port, "-k", dir_, "-c",
                  "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                  "-c", "full_page_writes=off", "-c", "logging_collector=off"},
                 dir_ + "/log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("postgres exited at start (port " + port + "): " + log_tail());
      }
      // pg_isready: accepting connections, not merely listening.
      if (accepts(port_) && run({bin_ + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", port, "-U",
                                 "llmkit", "-d", "postgres"}) == 0) {
        return;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("postgres did not take connections within 30 s: " + log_tail());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Stops it: a fast shutdown (connections cut, data kept), or with
  // `crash`, SIGKILL as a crash would.
  void stop(bool crash = false) {
    if (pid_ <= 0) return;
    kill(pid_, crash ? SIGKILL : SIGINT);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    if (crash) {
      // The postmaster's children outlive a SIGKILL of it; the next start
      // waits for them (and its shared memory) to go.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

 private:
  static std::string bindir() {
    FILE* p = popen("pg_config --bindir 2>/dev/null", "r");
    std::string out;
    if (p != nullptr) {
      char buf[512];
      while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
      pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (out.empty()) throw std::runtime_error("pg_config not found: is libpq-dev installed?");
    return out;
  }

  // Forks and execs `argv`, as the postgres user when we are root, its
  // output appended to `log` (by default, dropped).
  pid_t spawn(const std::vector<std::string>& argv, const std::string& log = "/dev/null") const {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      if (uid_ != 0 && (setgid(gid_) != 0 || setuid(uid_) != 0)) _exit(126);
      if (std::FILE* out = std::fopen(log.c_str(), "a"); out != nullptr) {
        dup2(fileno(out), 1);
        dup2(fileno(out), 2);
      }
      execv(args[0], args.data());
      _exit(127);
    }
    return pid;
  }

  int run(const std::vector<std::string>& argv) const {
    const pid_t pid = spawn(argv);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The server's last words, for an error message.
  std::string log_tail() const {
    std::string text;
    if (std::FILE* f = std::fopen((dir_ + "/log").c_str(), "r"); f != nullptr) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
      std::fclose(f);
    }
    return text.size() > 800 ? text.substr(text.size() - 800) : text;
  }

  void cleanup() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  int port_;
  std::string bin_;
  std::string dir_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t pid_ = -1;
};

}  // namespace llmkit::test
