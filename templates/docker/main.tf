# Coder Scale Test: the workspace template for Docker.
#
# One small container per workspace on the provisioner's Docker host, running one Coder
# agent. A startup script (coder_script) starts three WebSocket servers inside the
# workspace, published as subdomain apps:
#   wsec  echoes every message back   (the apps stage's target)
#   wsra  sends random bytes          (read-heavy traffic)
#   wsdi  discards what it receives   (write-heavy traffic)
# The slugs are four characters and the agent is named "main" so that a subdomain app's host
# label ("{slug}--{workspace}--{owner}", older coderd: with "--{agent}") fits DNS's 63.
#
# Push it with `coder-scaletest template push --kind docker` (or `coder templates push`).

terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
    docker = {
      source  = "kreuzwerker/docker"
      version = ">= 3.0"
    }
  }
}

provider "coder" {}

variable "docker_host" {
  description = "Docker daemon the provisioner creates containers on (the provisioner's own by default)."
  type        = string
  default     = "unix:///var/run/docker.sock"
}

variable "image" {
  description = "Workspace image: any Linux image with curl and a shell (the agent and websocat are downloaded at start)."
  type        = string
  default     = "codercom/enterprise-minimal:ubuntu"
}

provider "docker" {
  host = var.docker_host
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"

  # Two metadata items every 10 s, as in Coder's reference scale test.
  metadata {
    display_name = "CPU Usage"
    key          = "0_cpu_usage"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 1
  }
  metadata {
    display_name = "RAM Usage"
    key          = "1_ram_usage"
    script       = "coder stat mem"
    interval     = 10
    timeout      = 1
  }
}

# Started when the agent starts; lifecycle_state turns "ready" once the servers are launched.
resource "coder_script" "websocket_servers" {
  agent_id           = coder_agent.main.id
  display_name       = "WebSocket test servers"
  run_on_start       = true
  start_blocks_login = false
  timeout            = 180
  script             = <<-EOT
    set -eu
    bin=/tmp/websocat
    if [ ! -x "$bin" ]; then
      curl -fsSL --retry 5 -o "$bin" https://github.com/vi/websocat/releases/download/v1.13.0/websocat.x86_64-unknown-linux-musl
      chmod +x "$bin"
    fi
    nohup "$bin" --binary ws-l:127.0.0.1:4101 mirror: >/tmp/wsec.log 2>&1 &
    nohup "$bin" --binary ws-l:127.0.0.1:4102 cmd:'dd if=/dev/urandom bs=1024' >/tmp/wsra.log 2>&1 &
    nohup "$bin" --binary ws-l:127.0.0.1:4103 cmd:'dd of=/dev/null' >/tmp/wsdi.log 2>&1 &
  EOT
}

resource "coder_app" "wsec" {
  agent_id     = coder_agent.main.id
  slug         = "wsec"
  display_name = "WebSocket echo"
  url          = "http://127.0.0.1:4101"
  subdomain    = true
  share        = "owner"
}

resource "coder_app" "wsra" {
  agent_id     = coder_agent.main.id
  slug         = "wsra"
  display_name = "WebSocket random"
  url          = "http://127.0.0.1:4102"
  subdomain    = true
  share        = "owner"
}

resource "coder_app" "wsdi" {
  agent_id     = coder_agent.main.id
  slug         = "wsdi"
  display_name = "WebSocket discard"
  url          = "http://127.0.0.1:4103"
  subdomain    = true
  share        = "owner"
}

resource "docker_container" "workspace" {
  # Only while the workspace is started; a stop or delete build removes the container.
  count    = data.coder_workspace.me.start_count
  image    = var.image
  name     = "scaletest-${lower(data.coder_workspace_owner.me.name)}-${lower(data.coder_workspace.me.name)}"
  hostname = data.coder_workspace.me.name
  # The agent dials coderd; "localhost" in its URL means the Docker host.
  entrypoint = ["sh", "-c", replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }
  # Small on purpose: the scale test measures coderd, not the workspaces.
  memory     = 512
  cpu_shares = 256

  labels {
    label = "coder.workspace_id"
    value = data.coder_workspace.me.id
  }
  labels {
    label = "coder.owner"
    value = data.coder_workspace_owner.me.name
  }
}
