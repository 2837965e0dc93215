# Coder Scale Test: the workspace template for Kubernetes.
#
# One small pod per workspace, running one Coder agent. A startup script (coder_script)
# starts three WebSocket servers inside the workspace, published as subdomain apps:
#   wsec  echoes every message back   (the apps stage's target)
#   wsra  sends random bytes          (read-heavy traffic)
#   wsdi  discards what it receives   (write-heavy traffic)
# The slugs are four characters on purpose: a subdomain app's host label is
# "{slug}--{workspace}--{owner}" (older coderd: with "--{agent}" after the slug) and must
# fit DNS's 63 characters. The agent is named "main" for the same reason.
#
# Push it with `coder-scaletest template push --kind kubernetes` (or `coder templates push`).

terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.30"
    }
  }
}

provider "coder" {}

# coderd's provisioner runs in the cluster: use its service account, not a kubeconfig.
provider "kubernetes" {
  config_path = null
}

variable "namespace" {
  description = "Namespace the workspace pods run in (it must exist, and the provisioner's service account must be allowed to manage pods there)."
  type        = string
  default     = "coder-scaletest"
}

variable "image" {
  description = "Workspace image: any Linux image with curl and a shell (the agent and websocat are downloaded at start)."
  type        = string
  default     = "docker.io/codercom/enterprise-minimal:ubuntu"
}

variable "node_selector" {
  description = "Node labels the workspace pods must match, e.g. { \"cloud.google.com/gke-nodepool\" = \"scaletest-workspaces\" }; empty: any node."
  type        = map(string)
  default     = {}
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"

  # Two metadata items every 10 s, as in Coder's reference scale test: part of the load an
  # agent puts on coderd and its database.
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

# Started when the agent starts; the agent reports lifecycle_state "ready" once it has
# launched the servers (start_error if the download fails). The scale test waits for "ready".
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
    # Detached, so the script ends (and the agent turns ready) while the servers keep running.
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

locals {
  # Kubernetes names: lower case, at most 63 characters.
  pod_name = substr("scaletest-${lower(data.coder_workspace_owner.me.name)}-${lower(data.coder_workspace.me.name)}", 0, 63)
}

resource "kubernetes_pod" "workspace" {
  # Only while the workspace is started; a stop or delete build removes the pod.
  count = data.coder_workspace.me.start_count

  metadata {
    name      = local.pod_name
    namespace = var.namespace
    labels = {
      "app.kubernetes.io/name"     = "coder-scaletest-workspace"
      "app.kubernetes.io/part-of"  = "coder"
      "com.coder.resource"         = "true"
      "com.coder.workspace.id"     = data.coder_workspace.me.id
      "com.coder.workspace.name"   = data.coder_workspace.me.name
      "com.coder.user.id"          = data.coder_workspace_owner.me.id
      "com.coder.user.username"    = data.coder_workspace_owner.me.name
    }
  }

  spec {
    node_selector = var.node_selector
    # Nothing to persist: a scale-test workspace is created, used and deleted in one run.
    restart_policy = "Never"

    security_context {
      run_as_user = 1000
      fs_group    = 1000
    }

    container {
      name              = "dev"
      image             = var.image
      image_pull_policy = "IfNotPresent"
      command           = ["sh", "-c", coder_agent.main.init_script]

      env {
        name  = "CODER_AGENT_TOKEN"
        value = coder_agent.main.token
      }

      # Small on purpose: the scale test measures coderd, not the workspaces. An idle agent
      # needs about 0.1 CPU and 256 MiB (Coder's sizing guide); the echo servers add little.
      resources {
        requests = {
          cpu    = "100m"
          memory = "320Mi"
        }
        limits = {
          cpu    = "500m"
          memory = "512Mi"
        }
      }
    }
  }
}
